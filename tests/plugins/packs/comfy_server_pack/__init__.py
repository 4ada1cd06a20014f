"""Routes and websocket messages the ComfyUI way: PromptServer.instance.routes at import time,
app.add_routes, send_sync / send_progress_text / preview images from a running node, and
execution.validate_prompt from a route."""

import comfy.model_management
import execution
from aiohttp import web
from PIL import Image
from server import BinaryEventTypes, PromptServer

routes = PromptServer.instance.routes
SUPPORTS = list(PromptServer.instance.supports)


@routes.get("/comfy_server_pack/hello")
async def hello(request):
    return web.json_response({"hello": "world", "supports": SUPPORTS})


@routes.post("/comfy_server_pack/validate")
async def validate(request):
    body = await request.json()
    valid, error, outputs, node_errors = await execution.validate_prompt("check", body["prompt"], None)
    return web.json_response(
        {
            "valid": valid,
            "error": error,
            "outputs": outputs,
            "node_errors": node_errors,
            "type_name": execution.full_type_name(type(request)),
        }
    )


@routes.post("/comfy_server_pack/stop")
async def stop(request):  # a "cancel" button of the pack's own UI
    comfy.model_management.interrupt_current_processing()
    return web.json_response({"stopped": True})


@routes.get("/prompt")
async def clash(request):  # a built-in route: the built-in one stays
    return web.json_response({"clash": True})


async def direct(request):
    return web.Response(text="direct route")


PromptServer.instance.app.add_routes([web.get("/comfy_server_pack/direct", direct)])


class Announce:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"default": "hi"})}, "hidden": {"unique_id": "UNIQUE_ID"}}

    RETURN_TYPES = ()
    FUNCTION = "announce"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def announce(self, text, unique_id):
        server = PromptServer.instance
        sid = server.client_id
        server.send_sync("comfy_server_pack.message", {"text": text, "client": sid, "node": unique_id}, sid)
        server.send_progress_text(f"streamed {text}", unique_id, sid)
        server.send_sync(
            BinaryEventTypes.UNENCODED_PREVIEW_IMAGE, ("PNG", Image.new("RGB", (8, 8), (255, 0, 0)), None), sid
        )
        return {"ui": {"text": [text]}}


NODE_CLASS_MAPPINGS = {"ComfyAnnounce": Announce}

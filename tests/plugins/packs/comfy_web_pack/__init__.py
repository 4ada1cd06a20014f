"""A custom-node pack written the way ComfyUI packs are, for NodeFlow's web-extension tests.

Its web scripts import ``app``/``api`` from ``../../scripts/*.js``; its node sends a custom
websocket event while it runs (``PromptServer.instance.send_sync``, as ComfyUI packs do) and returns
a ``ui`` dict the web script shows. ``js/broken_*.js`` fail on purpose (at import, in hooks).
"""

try:
    from server import PromptServer
except ImportError:  # NodeFlow without its ComfyUI server module: send through the running node instead
    PromptServer = None


def send_sync(event, data):
    if PromptServer is not None and getattr(PromptServer, "instance", None) is not None:
        PromptServer.instance.send_sync(event, data)
        return
    from nodeflow.engine.context import current_context

    current_context()._emit(event, data)  # what send_sync does for a running prompt: one websocket message


class WebEcho:
    """Echoes its text: the reversed text in the node's ui output, the upper-cased text as a custom event."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"default": "hello"})}, "hidden": {"unique_id": "UNIQUE_ID"}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "echo"
    OUTPUT_NODE = True
    CATEGORY = "testing/web"

    def echo(self, text, unique_id=None):
        send_sync("comfy_web_pack.shout", {"node": unique_id, "text": text.upper()})
        return {"ui": {"echo": [text[::-1]]}, "result": (text,)}


NODE_CLASS_MAPPINGS = {"WebEcho": WebEcho}
NODE_DISPLAY_NAME_MAPPINGS = {"WebEcho": "Web Echo"}
WEB_DIRECTORY = "./js"

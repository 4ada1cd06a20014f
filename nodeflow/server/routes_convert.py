"""POST /nodeflow/convert: any workflow format (or an image carrying one) in, the asked format out.

JSON body: {"workflow": <NodeFlow | ComfyUI editor | API prompt>, "to": "api" | "nodeflow" | "comfyui"}.
An image/png or image/webp body (with ?to=...) is read for its embedded workflow.
Answer: {"from": <detected format>, "to": ..., "result": ..., "warnings": [{node, message}]}.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from nodeflow.workflow import convert
from nodeflow.workflow.image_metadata import workflow_from_image

from .bodies import ConvertBody, parse
from .keys import ENV, REGISTRY
from .requests import BadRequest, bad, json_object
from .security import json_error

routes = web.RouteTableDef()
TARGETS = {"api": convert.to_api, "nodeflow": convert.to_nodeflow, "comfyui": convert.to_comfyui}
MAX_IMAGE_BYTES = 64 * 1024 * 1024


@routes.post("/nodeflow/convert")
async def convert_workflow(request: web.Request) -> web.Response:
    object_info = await asyncio.to_thread(request.app[REGISTRY].object_info, request.app[ENV])  # lists folders
    try:
        if request.content_type in ("image/png", "image/webp"):
            target = request.query.get("to", "nodeflow")
            body = await request.content.read(MAX_IMAGE_BYTES + 1)
            if len(body) > MAX_IMAGE_BYTES:
                return json_error(413, "image too large")
            data, warnings = workflow_from_image(body, object_info)
            source = "image"
        else:
            body = parse(ConvertBody, await json_object(request))
            data, warnings, target = body.workflow, [], body.to
            source = convert.detect_format(data)
        if target not in TARGETS:
            raise BadRequest(f"'to' must be one of {sorted(TARGETS)}, got {str(target)[:40]!r}")
        result, more = TARGETS[target](data, object_info)
    except BadRequest as exc:
        return bad(exc)
    except convert.WorkflowError as exc:
        return json_error(400, str(exc), "invalid_workflow")
    return web.json_response({"from": source, "to": target, "result": result, "warnings": warnings + more})

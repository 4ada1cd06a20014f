"""/object_info, /models, /embeddings, /system_stats, /free, /features, /extensions."""

from __future__ import annotations

import asyncio
import os
import platform
import sys

from aiohttp import web

from nodeflow import __version__
from nodeflow.folders import MODEL_FOLDERS

from .bodies import FreeBody, parse
from .keys import CONFIG, ENV, REGISTRY, WORKER
from .requests import BadRequest, bad, json_object
from .security import json_error

routes = web.RouteTableDef()


@routes.get("/object_info")
async def object_info(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response(await asyncio.to_thread(app[REGISTRY].object_info, app[ENV]))  # lists folders


@routes.get("/object_info/{node_class}")
async def object_info_one(request: web.Request) -> web.Response:
    name = request.match_info["node_class"]
    if name not in request.app[REGISTRY]:
        return json_error(404, f"no node named {name[:100]!r}", "not_found")
    return web.json_response(await asyncio.to_thread(request.app[REGISTRY].object_info, request.app[ENV], [name]))


@routes.get("/models")
async def models(request: web.Request) -> web.Response:
    return web.json_response(sorted(set(MODEL_FOLDERS) | set(request.app[ENV].model_paths)))


@routes.get("/models/{folder}")
async def model_files(request: web.Request) -> web.Response:
    folder = request.match_info["folder"]
    if folder not in request.app[ENV].model_paths:
        return json_error(404, f"no model folder named {folder[:60]!r}; see GET /models", "not_found")
    return web.json_response(await asyncio.to_thread(request.app[ENV].list_files, folder))


@routes.get("/embeddings")
async def embeddings(request: web.Request) -> web.Response:
    names = [os.path.splitext(n)[0] for n in await asyncio.to_thread(request.app[ENV].list_files, "embeddings")]
    return web.json_response(sorted(set(names)))


def _memory() -> tuple[int, int]:
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        return info["MemTotal"], info.get("MemAvailable", info["MemFree"])
    except (OSError, KeyError, ValueError):
        return 0, 0


@routes.get("/system_stats")
async def system_stats(request: web.Request) -> web.Response:
    total, free = _memory()
    extra = request.app[CONFIG].system_info() if request.app[CONFIG].system_info else {}
    return web.json_response(
        {
            "system": {
                "os": os.name,
                "platform": platform.platform(),
                "ram_total": total,
                "ram_free": free,
                "python_version": sys.version,
                "pytorch_version": extra.get("pytorch_version", ""),
                "embedded_python": False,
                "argv": sys.argv,
                "nodeflow_version": __version__,
            },
            "devices": extra.get("devices", []),
        }
    )


@routes.post("/free")
async def free(request: web.Request) -> web.Response:
    try:
        body = parse(FreeBody, await json_object(request, allow_empty=True))
    except BadRequest as exc:
        return bad(exc)
    unload, free_memory = body.unload_models, body.free_memory
    if unload or free_memory:
        request.app[WORKER].request_free(unload, free_memory)
    return web.Response(status=200)


@routes.get("/features")
async def features(request: web.Request) -> web.Response:
    return web.json_response({"supports_preview_metadata": False, "nodeflow": True})


@routes.get("/extensions")
async def extensions(request: web.Request) -> web.Response:
    return web.json_response(request.app[CONFIG].extensions)


@routes.get("/nodeflow/plugins")
async def plugins(request: web.Request) -> web.Response:
    """Every plugin pack found: status, import time, error, nodes, clashes, web scripts."""
    statuses = request.app[CONFIG].plugin_status
    return web.json_response([s.to_dict() if hasattr(s, "to_dict") else s for s in statuses])


@routes.get("/nodeflow/workers")
async def workers(request: web.Request) -> web.Response:
    """Who runs prompts: the embedded worker, or each Ray worker with its node, device, memory,
    loaded models, current prompt and prompts done."""
    worker = request.app[WORKER]
    return web.json_response(await asyncio.to_thread(worker.describe_workers))

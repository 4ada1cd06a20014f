"""The app's state, as typed ``web.AppKey``s (aiohttp warns about string keys): what
``create_app`` puts on the application and what handlers, the ComfyUI ``server`` module and
main.py read back. Torch-free, like the rest of the server package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .config import ServerConfig
from .hub import Hub
from .off_loop import SerialThread
from .queue_store import QueueStore

CONFIG = web.AppKey("config", ServerConfig)
REGISTRY: web.AppKey[Any] = web.AppKey("registry")  # nodeflow.schema.registry.Registry
ENGINE: web.AppKey[Any] = web.AppKey("engine")  # nodeflow.engine.executor.Engine
ENV: web.AppKey[Any] = web.AppKey("env")  # nodeflow.folders.Folders
# editor/NodeFlow workflow -> (API prompt, warnings); None when the server cannot convert
WORKFLOW_TO_PROMPT: web.AppKey[Callable[[dict], tuple[dict, list]] | None] = web.AppKey("workflow_to_prompt")
HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", QueueStore)
DB = web.AppKey("db", SerialThread)  # where handlers run STORE's calls: off the loop, in order
BROADCAST_STATUS: web.AppKey[Callable[[], Awaitable[None]]] = web.AppKey("broadcast_status")
# server/worker.py's Worker or cluster/pool.py's RayPool; set while the app runs (cleanup_ctx)
WORKER: web.AppKey[Any] = web.AppKey("worker")

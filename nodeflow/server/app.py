"""The aiohttp application factory: state on the app object, thin handlers in routes_*.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from nodeflow.comfy_compat.server_binding import attach as attach_comfy_server

from . import openapi, routes_convert, routes_files, routes_info, routes_prompt, routes_templates, routes_userdata
from .config import ServerConfig
from .hub import Hub
from .keys import BROADCAST_STATUS, CONFIG, DB, ENGINE, ENV, HUB, REGISTRY, STORE, WORKER, WORKFLOW_TO_PROMPT
from .off_loop import SerialThread
from .queue_store import QueueStore
from .security import cors_guard, host_guard, json_errors, origin_guard, token_guard
from .worker import Worker

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
ROUTE_TABLES = (
    routes_prompt.routes,
    routes_info.routes,
    routes_files.routes,
    routes_userdata.routes,
    routes_convert.routes,
    routes_templates.routes,
    openapi.routes,
)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    sid = request.query.get("clientId") or uuid.uuid4().hex
    hub = request.app[HUB]
    hub.add(sid, ws)
    try:
        remaining = await request.app[DB](request.app[STORE].remaining)
        await hub.send("status", {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": sid}, sid)
        async for msg in ws:  # the editor sends nothing we must act on; keep the socket open
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(sid, ws)
    return ws


def _add_routes(app: web.Application, extra_routes: list[web.RouteTableDef]) -> None:
    for table in (*ROUTE_TABLES, *extra_routes):
        for route in table:
            for prefix in ("", "/api"):
                app.router.add_route(route.method, prefix + route.path, route.handler)
    for prefix in ("", "/api"):
        app.router.add_get(prefix + "/ws", websocket)


def _add_static(app: web.Application, config: ServerConfig) -> None:
    for name, folder in config.extension_dirs.items():
        app.router.add_static(f"/extensions/{name}", folder, follow_symlinks=False)
    web_dir = config.web_dir
    if web_dir is None or not (web_dir / "index.html").exists():

        async def no_editor(request: web.Request) -> web.Response:
            return web.Response(text="NodeFlow is running; the editor files (web/index.html) are missing.")

        app.router.add_get("/", no_editor)
        return

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_dir / "index.html", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index)
    # ComfyUI's frontend module paths (`import { app } from "../../scripts/app.js"` in a pack's
    # web script): small modules handing out the editor's ComfyUI adapter (web/js/comfy/).
    shims = web_dir / "js" / "comfy" / "scripts"
    if shims.is_dir():
        app.router.add_static("/scripts", shims, follow_symlinks=False)
    app.router.add_static("/", web_dir, follow_symlinks=False)


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html" or request.path == "/":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def create_app(
    config: ServerConfig,
    registry: Any,
    engine: Any,
    env: Any,
    workflow_to_prompt: Callable[[dict], tuple[dict, list]] | None = None,
    extra_routes: list[web.RouteTableDef] | None = None,
    worker_factory: Callable[..., Any] | None = None,
) -> web.Application:
    """Build the app. The worker starts with the app and stops with it: the embedded worker thread,
    or what ``worker_factory(store, loop, send)`` builds (the Ray pool: nodeflow/cluster/pool.py)."""
    guards = [host_guard({h.lower() for h in config.allowed_hosts})]
    if config.cors_origins:
        guards.append(cors_guard(config.cors_origins))  # raises ValueError for '*' or a malformed origin
    if config.access_token:
        guards.append(token_guard(config.access_token))
    app = web.Application(
        middlewares=[json_errors, *guards, origin_guard, security_headers],
        client_max_size=int(config.max_upload_mb * 1024 * 1024),
    )
    app[CONFIG], app[REGISTRY], app[ENGINE], app[ENV] = config, registry, engine, env
    app[WORKFLOW_TO_PROMPT] = workflow_to_prompt
    app[HUB] = Hub()
    app[STORE] = QueueStore(Path(config.database or env.user_dir / "nodeflow.db"), config.max_history)
    app[DB] = SerialThread("nodeflow-db")

    async def broadcast_status() -> None:
        remaining = await app[DB](app[STORE].remaining)
        await app[HUB].send("status", {"status": {"exec_info": {"queue_remaining": remaining}}})

    app[BROADCAST_STATUS] = broadcast_status

    async def worker_lifetime(app: web.Application) -> AsyncIterator[None]:
        """The worker runs while the app does; on the way out the store's queued calls finish
        before the database closes."""
        loop = asyncio.get_running_loop()
        worker = (
            worker_factory(app[STORE], loop, app[HUB].send)
            if worker_factory is not None
            else Worker(app[STORE], engine, loop, app[HUB].send, watching=app[HUB].watching)
        )
        app[WORKER] = worker
        worker.start()
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop)
            await asyncio.to_thread(app[DB].close)
            app[STORE].close()

    async def close_sockets(app: web.Application) -> None:  # open websockets would hold up the shutdown
        for ws in list(app[HUB].sockets.values()):
            await ws.close()

    app.cleanup_ctx.append(worker_lifetime)
    app.on_shutdown.append(close_sockets)
    _add_routes(app, extra_routes or [])
    attach_comfy_server(app)  # ComfyUI packs' PromptServer routes and send_sync; before the static catch-all
    _add_static(app, config)
    return app

"""ComfyUI's ``server`` for custom-node packs: ``PromptServer.instance`` over NodeFlow's server.

The instance exists as soon as a pack imports this module, before any aiohttp app does. Routes
packs add to ``PromptServer.instance.routes`` at import time are mounted on the real app when
``create_app`` builds it (at ``path`` and ``/api`` + ``path``, like every route; a clash with a
built-in route keeps the built-in). ``send_sync`` is thread-safe and reaches the websocket hub.
Never imports torch (the server package's rule).
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
from typing import Any

from aiohttp import web

from nodeflow.comfy_compat import MissingComfySymbol, missing, server_binding
from nodeflow.server.keys import STORE, WORKER

log = logging.getLogger(__name__)


class BinaryEventTypes:
    PREVIEW_IMAGE = 1
    UNENCODED_PREVIEW_IMAGE = 2
    TEXT = 3
    PREVIEW_IMAGE_WITH_METADATA = 4


class _PendingRouter:
    def __init__(self, calls: list) -> None:
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("add_"):
            raise MissingComfySymbol(
                f"server.PromptServer.instance.app.router.{name} is not available before "
                "the server starts; add routes with PromptServer.instance.routes"
            )
        return lambda *args, **kwargs: self._calls.append((name, args, kwargs))


class PendingApp:
    """Stands in for the aiohttp app until one exists: ``add_routes`` and ``router.add_*`` calls are
    recorded and replayed on every app the server attaches."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.router = _PendingRouter(self.calls)

    def add_routes(self, routes: Any) -> list:
        self.calls.append(("add_routes", (list(routes),), {}))
        return []

    def replay(self, app: web.Application) -> None:
        for name, args, kwargs in self.calls:
            try:
                (app.add_routes if name == "add_routes" else getattr(app.router, name))(*args, **kwargs)
            except (RuntimeError, ValueError) as exc:
                log.warning("custom-node route (%s) not added: %s", name, exc)


class PromptQueueView:
    """The little of ComfyUI's PromptQueue packs read: what is queued and running."""

    def _store(self) -> Any:
        app = server_binding.attached().app
        return app[STORE] if app is not None else None

    def get_tasks_remaining(self) -> int:
        store = self._store()
        return store.remaining() if store is not None else 0

    def get_current_queue(self) -> tuple[list, list]:
        store = self._store()
        if store is None:
            return [], []
        running, pending = store.queue()
        return [item.as_queue_item() for item in running], [item.as_queue_item() for item in pending]

    get_current_queue_volatile = get_current_queue


def _encode_preview(data: Any) -> dict:
    """(format, PIL image, max size[, metadata]) -> the hub's preview event."""
    fmt, image, max_size = data[0], data[1], data[2] if len(data) > 2 else None
    fmt = "PNG" if str(fmt).upper() == "PNG" else "JPEG"
    if max_size:
        image = image.copy()
        image.thumbnail((max_size, max_size))
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, format="JPEG", quality=95)
    else:
        image.save(buffer, format="PNG")
    return {"format": fmt, "image": buffer.getvalue()}


class PromptServer:
    """The one server object packs reach as ``PromptServer.instance``."""

    instance: PromptServer

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        PromptServer.instance = self
        self.routes = web.RouteTableDef()
        self.supports = ["custom_nodes_from_web"]
        self.prompt_queue = PromptQueueView()
        self.last_node_id: str | None = None
        self.last_prompt_id: str | None = None
        self.number = 0
        self.mount_problems: list[str] = []
        self._given_loop = loop
        self._last_client_id: str | None = None
        self._pending = PendingApp()
        server_binding.on_attach(self._attach)

    @property
    def app(self) -> Any:
        return server_binding.attached().app or self._pending

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return server_binding.attached().loop or self._given_loop

    @property
    def client_id(self) -> str | None:
        """client_id of the running prompt (or of the last one)."""
        app = server_binding.attached().app
        worker = app.get(WORKER) if app is not None else None
        if worker is not None and worker.running_id is not None:
            return worker.running_client
        return self._last_client_id

    @property
    def sockets(self) -> dict:
        hub = server_binding.attached().hub
        return hub.sockets if hub is not None else {}

    def _attach(self, attached: server_binding.Attached) -> None:
        self.mount_problems = server_binding.mount(attached.app, self.routes)
        self._pending.replay(attached.app)
        attached.hub.observers.append(self._observe)

    def _observe(self, event: str, data: Any, sid: str | None) -> None:
        if event == "execution_start":
            self._last_client_id, self.last_prompt_id = sid, data.get("prompt_id")
        elif event == "executing" and data.get("node") is not None:
            self.last_node_id = data["node"]

    async def send(self, event: Any, data: Any, sid: str | None = None) -> None:
        """JSON ``{type, data}`` events; bytes as a binary frame led by the event number;
        UNENCODED_PREVIEW_IMAGE data (format, PIL image, max size) as a preview image."""
        hub = server_binding.attached().hub
        if hub is None:
            return
        if event == BinaryEventTypes.UNENCODED_PREVIEW_IMAGE:
            await hub.send("preview", _encode_preview(data), sid)
        elif isinstance(data, (bytes, bytearray)):
            await hub.deliver(struct.pack(">I", int(event)) + bytes(data), sid)
        else:
            await hub.send_json(str(event), data, sid)

    def send_sync(self, event: Any, data: Any, sid: str | None = None) -> None:
        """``send`` from any thread (node code runs in the worker thread); dropped without a server."""
        loop = self.loop
        if loop is None or loop.is_closed():
            log.debug("send_sync(%s) dropped: the server is not running", event)
            return
        asyncio.run_coroutine_threadsafe(self.send(event, data, sid), loop)

    def send_progress_text(self, text: str | bytes | bytearray, node_id: str, sid: str | None = None) -> None:
        """Text shown on node ``node_id`` (a binary TEXT frame)."""
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        node = str(node_id).encode()
        self.send_sync(BinaryEventTypes.TEXT, struct.pack(">I", len(node)) + node + text.encode(), sid)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise MissingComfySymbol(
            f"server.PromptServer.instance.{name} is ComfyUI API that NodeFlow does not "
            "provide; the custom-node pack needs it (see docs/plugins.md)"
        )


PromptServer()

__getattr__ = missing("server")

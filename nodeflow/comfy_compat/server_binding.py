"""The server side of ComfyUI's ``server.PromptServer``: which aiohttp app, websocket hub and event
loop it speaks through. ``create_app`` calls ``attach(app)`` after its own routes and before the
static files; the ``server`` module (imported by packs, possibly before any app exists) listens
with ``on_attach`` and mounts the routes packs registered at import time.

Torch-free and aiohttp-only, like the server package that imports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from nodeflow.server.keys import HUB

log = logging.getLogger(__name__)


@dataclass
class Attached:
    app: web.Application | None = None
    hub: Any = None  # nodeflow.server.hub.Hub
    loop: asyncio.AbstractEventLoop | None = None


_ATTACHED = Attached()
_LISTENERS: list[Callable[[Attached], None]] = []


def attach(app: web.Application) -> None:
    """Make ``app`` the one PromptServer speaks through (call before its router is frozen)."""
    _ATTACHED.app, _ATTACHED.hub, _ATTACHED.loop = app, app[HUB], None

    async def record_loop(started: web.Application) -> None:
        if _ATTACHED.app is started:
            _ATTACHED.loop = asyncio.get_running_loop()

    app.on_startup.append(record_loop)
    for listener in _LISTENERS:
        try:
            listener(_ATTACHED)
        except Exception:  # a pack's broken route must not stop the server
            log.exception("mounting custom-node routes failed")


def on_attach(listener: Callable[[Attached], None]) -> None:
    """Call ``listener(attached)`` for every app attached from now on (and the current one)."""
    _LISTENERS.append(listener)
    if _ATTACHED.app is not None:
        listener(_ATTACHED)


def attached() -> Attached:
    return _ATTACHED


def mount(app: web.Application, table: web.RouteTableDef, prefixes: tuple[str, ...] = ("", "/api")) -> list[str]:
    """Add every route of ``table`` under each prefix; returns a message per route that could not
    be added (e.g. it clashes with a built-in route, which is kept)."""
    problems = []
    for definition in table:
        for prefix in prefixes:
            try:
                if isinstance(definition, web.RouteDef):
                    app.router.add_route(
                        definition.method, prefix + definition.path, definition.handler, **definition.kwargs
                    )
                elif isinstance(definition, web.StaticDef):
                    app.router.add_static(prefix + definition.prefix, definition.path, **definition.kwargs)
                elif not prefix:
                    definition.register(app.router)
            except (RuntimeError, ValueError) as exc:
                problems.append(f"{definition}: {exc}")
                log.warning("custom-node route %s%s not mounted: %s", prefix, getattr(definition, "path", ""), exc)
    return problems

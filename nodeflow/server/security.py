"""Middlewares: refuse cross-origin state changes, and turn every error into JSON."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def json_error(status: int, message: str, kind: str = "bad_request", details: str = "") -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message, "details": details, "extra_info": {}}},
                             status=status)


def _origin_matches_host(origin: str, host: str) -> bool:
    if not origin or origin.lower() == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    origin_host = parts.netloc.lower()
    host = host.lower()
    default_port = {"http": "80", "https": "443"}[parts.scheme]
    strip = lambda h: h[: -len(":" + default_port)] if h.endswith(":" + default_port) else h  # noqa: E731
    return strip(origin_host) == strip(host)


@web.middleware
async def origin_guard(request: web.Request, handler):
    """A state-changing request from another origin (or `Origin: null`) is refused: a web page
    elsewhere must not queue prompts or write files on this machine. No Origin = a script."""
    if request.method in STATE_CHANGING:
        origin = request.headers.get("Origin")
        if origin is not None and not _origin_matches_host(origin, request.host or ""):
            return json_error(403, f"cross-origin request refused: Origin {origin[:100]!r} does not match Host "
                                   f"{(request.host or '')[:100]!r}", "forbidden")
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            return json_error(403, "cross-site request refused (Sec-Fetch-Site: cross-site)", "forbidden")
    return await handler(request)


def refuse_unsafe_paths(handler):
    """Route decorator: a file name that tries to leave its folder becomes a 400 naming the problem."""
    from functools import wraps

    from nodeflow.folders import UnsafePath

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except UnsafePath as exc:
            return json_error(400, f"unsafe file name: {exc}", "unsafe_path")
    return wrapped


@web.middleware
async def json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return json_error(exc.status, exc.reason if not exc.text or exc.text.startswith(str(exc.status)) else exc.text,
                          "http_error")
    except Exception as exc:  # never a bare 500 page; log it and say what failed
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, f"internal error: {type(exc).__name__}: {exc}"[:500], "internal_error")

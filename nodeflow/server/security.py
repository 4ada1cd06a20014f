"""Middlewares: refuse cross-origin state changes, and turn every error into JSON."""
from __future__ import annotations

import hmac
import ipaddress
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


TOKEN_COOKIE = "nodeflow_token"


def host_name(host_header: str) -> str:
    """'Example.COM:8188' -> 'example.com'; '[::1]:8188' -> '::1'."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_guard(allowed: set[str]):
    """Refuse requests whose Host is not loopback or configured: a page on another name that
    re-resolves to 127.0.0.1 (DNS rebinding) must not reach this server, not even for reads."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        name = host_name(request.headers.get("Host", ""))
        if not (is_loopback(name) or name in allowed or "*" in allowed):
            return json_error(403, f"Host {name[:100]!r} is not allowed; start NodeFlow with --allowed-hosts "
                                   f"{name[:100]} to reach it under that name", "forbidden")
        return await handler(request)
    return middleware


def token_guard(token: str):
    """Every route needs the access token (query ?token=, cookie, or Authorization: Bearer); a
    valid ?token= sets the cookie so the editor keeps working after the first visit."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        given = request.query.get("token")
        from_query = given is not None
        if given is None:
            given = request.cookies.get(TOKEN_COOKIE)
        if given is None and request.headers.get("Authorization", "").startswith("Bearer "):
            given = request.headers["Authorization"][7:]
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            return json_error(401, "an access token is required: open the URL NodeFlow printed at start "
                                   "(…?token=…) or send Authorization: Bearer <token>", "unauthorized")
        response = await handler(request)
        if from_query and isinstance(response, web.StreamResponse) and not response.prepared:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response
    return middleware


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

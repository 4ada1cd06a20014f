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
    return web.json_response(
        {"error": {"type": kind, "message": message, "details": details, "extra_info": {}}}, status=status
    )


def _origin_matches_host(origin: str, host: str) -> bool:
    if not origin or origin.lower() == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    origin_host = parts.netloc.lower()
    host = host.lower()
    default_port = {"http": "80", "https": "443"}[parts.scheme]

    def strip(h):
        return h[: -len(":" + default_port)] if h.endswith(":" + default_port) else h

    return strip(origin_host) == strip(host)


TOKEN_COOKIE = "nodeflow_token"


def host_name(host_header: str) -> str:
    """'Example.COM:8188' -> 'example.com'; '[::1]:8188' -> '::1'."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
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
            return json_error(
                403,
                f"Host {name[:100]!r} is not allowed; start NodeFlow with --allowed-hosts "
                f"{name[:100]} to reach it under that name",
                "forbidden",
            )
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
            return json_error(
                401,
                "an access token is required: open the URL NodeFlow printed at start "
                "(…?token=…) or send Authorization: Bearer <token>",
                "unauthorized",
            )
        response = await handler(request)
        if from_query and isinstance(response, web.StreamResponse) and not response.prepared:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return middleware


# request storage: the Origin, when it is one named with --enable-cors-header
CORS_ORIGIN_KEY = web.RequestKey("nodeflow_cors_origin", str)
CORS_METHODS = "GET, HEAD, POST, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization, Comfy-User"


def normalize_origin(value: str) -> str | None:
    """'HTTPS://App.Example:443/' -> 'https://app.example'; None when ``value`` is not an http(s) origin."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def parse_cors_origins(values: list[str] | None) -> list[str]:
    """The --enable-cors-header values (repeated and/or comma-separated) as normalized origins.
    '*' is refused: it would let any web site drive this server."""
    origins: list[str] = []
    for value in values or []:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            if item == "*":
                raise ValueError(
                    "--enable-cors-header '*' is refused: it would let every web site you visit use "
                    "this server (queue prompts, read outputs, write and delete files). Name the "
                    "origins that may, e.g. --enable-cors-header https://my-app.example.com"
                )
            origin = normalize_origin(item)
            if origin is None:
                raise ValueError(
                    f"--enable-cors-header {item[:100]!r} is not an origin; give scheme://host[:port] "
                    "with http or https and no path, e.g. https://my-app.example.com or "
                    "http://localhost:5173"
                )
            if origin not in origins:
                origins.append(origin)
    return origins


def _add_vary_origin(headers) -> None:
    vary = headers.get("Vary", "")
    if "origin" not in vary.lower():
        headers["Vary"] = f"{vary}, Origin" if vary else "Origin"


def cors_guard(origins: list[str]):
    """Cross-origin access for the origins named with --enable-cors-header, and for them only: their
    responses carry Access-Control-Allow-Origin (the request's own Origin, never '*'), their preflight
    OPTIONS is answered, and origin_guard lets their state changes through. Sits after host_guard
    (the Host allow-list still applies) and before token_guard (a preflight carries no token; the
    real request still needs it)."""
    allowed = set(parse_cors_origins(origins))

    def decorate(headers, origin: str | None) -> None:
        _add_vary_origin(headers)
        if origin is not None:
            headers["Access-Control-Allow-Origin"] = origin

    @web.middleware
    async def middleware(request: web.Request, handler):
        origin = request.headers.get("Origin")
        named = origin if origin is not None and normalize_origin(origin) in allowed else None
        if named is not None:
            request[CORS_ORIGIN_KEY] = named
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                response = web.Response(
                    status=204,
                    headers={
                        "Access-Control-Allow-Methods": CORS_METHODS,
                        "Access-Control-Allow-Headers": CORS_HEADERS,
                        "Access-Control-Max-Age": "600",
                    },
                )
                decorate(response.headers, named)
                return response
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            decorate(exc.headers, named)
            raise
        if not response.prepared:
            decorate(response.headers, named)
        return response

    return middleware


@web.middleware
async def origin_guard(request: web.Request, handler):
    """A state-changing request from another origin (or `Origin: null`) is refused: a web page
    elsewhere must not queue prompts or write files on this machine. No Origin = a script. Origins
    named with --enable-cors-header (cors_guard marks them) are let through."""
    if request.method in STATE_CHANGING and request.get(CORS_ORIGIN_KEY) is None:
        origin = request.headers.get("Origin")
        if origin is not None and not _origin_matches_host(origin, request.host or ""):
            return json_error(
                403,
                f"cross-origin request refused: Origin {origin[:100]!r} does not match Host "
                f"{(request.host or '')[:100]!r}",
                "forbidden",
            )
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
        response = json_error(
            exc.status, exc.reason if not exc.text or exc.text.startswith(str(exc.status)) else exc.text, "http_error"
        )
        for name in ("Allow", "Vary", "Access-Control-Allow-Origin"):  # set by aiohttp (405) or cors_guard
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception as exc:  # never a bare 500 page; log it and say what failed
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, f"internal error: {type(exc).__name__}: {exc}"[:500], "internal_error")

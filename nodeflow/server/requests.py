"""Reading request bodies: JSON objects only, with errors that say what was wrong."""

from __future__ import annotations

import json

from aiohttp import web


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _not_json(token: str):
    raise ValueError(f"{token} is not a JSON value (JSON has no NaN or Infinity); send a finite number or null")


async def json_object(request: web.Request, allow_empty: bool = False) -> dict:
    ctype = request.content_type
    from_browser = any(h in request.headers for h in ("Origin", "Referer", "Sec-Fetch-Mode", "Sec-Fetch-Site"))
    if ctype in ("multipart/form-data", "text/plain") or (
        ctype == "application/x-www-form-urlencoded" and from_browser
    ):
        # A browser form can send these cross-site without a preflight; scripts (urllib's
        # default form type included) that carry no browser headers are still served.
        raise BadRequest(f"send JSON with Content-Type: application/json (got {ctype})", 415)
    raw = await request.read()
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise BadRequest(f"the request body is not valid JSON: {exc}"[:300]) from None
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be a JSON object, got {type(data).__name__}")
    return data


def bad(exc: BadRequest) -> web.Response:
    from .security import json_error

    return json_error(exc.status, exc.message)

"""/userdata: the editor's saved workflows and settings, as files under user/default/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from nodeflow.folders import safe_join

from .keys import ENV
from .security import json_error, refuse_unsafe_paths

routes = web.RouteTableDef()
MAX_USERDATA_BYTES = 50 * 1024 * 1024


def _root(request: web.Request) -> Path:
    root = request.app[ENV].user_dir / "default"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(request: web.Request, name: str) -> Path:
    return safe_join(_root(request), unquote(name))


@routes.get("/userdata")
@refuse_unsafe_paths
async def list_userdata(request: web.Request) -> web.Response:
    directory = request.query.get("dir", "")
    base = safe_join(_root(request), directory) if directory else _root(request)
    if not base.is_dir():
        return json_error(404, f"no user data folder {directory[:100]!r}", "not_found")
    recurse = request.query.get("recurse", "").lower() in ("true", "1")
    files = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recurse else []
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            files.append(str(full.relative_to(base)).replace(os.sep, "/"))
    return web.json_response(files)


@routes.get(r"/userdata/{file:[\s\S]+?}")
@refuse_unsafe_paths
async def get_userdata(request: web.Request) -> web.StreamResponse:
    path = _path(request, request.match_info["file"])
    if not path.is_file():
        return json_error(404, "no such user data file", "not_found")
    # Served as data, never as a page: no html/svg/js inline from user data.
    ctype = "application/json" if path.suffix == ".json" else "application/octet-stream"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": ctype,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "attachment",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@routes.post(r"/userdata/{file:[\s\S]+?}/move/{dest:[\s\S]+}")
@refuse_unsafe_paths
async def move_userdata(request: web.Request) -> web.Response:
    source = _path(request, request.match_info["file"])
    dest = _path(request, request.match_info["dest"])
    if not source.is_file():
        return json_error(404, "no such user data file", "not_found")
    if dest.exists() and request.query.get("overwrite", "true").lower() == "false":
        return json_error(409, "the destination exists; pass overwrite=true to replace it", "conflict")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, dest)
    return web.json_response(str(dest.relative_to(_root(request))).replace(os.sep, "/"))


@routes.post(r"/userdata/{file:[\s\S]+?}")
@refuse_unsafe_paths
async def post_userdata(request: web.Request) -> web.Response:
    path = _path(request, request.match_info["file"])
    if path.exists() and request.query.get("overwrite", "true").lower() == "false":
        return json_error(409, "the file exists; pass overwrite=true to replace it", "conflict")
    body = await request.read()
    if len(body) > MAX_USERDATA_BYTES:
        return json_error(413, "user data file too large", "too_large")
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_join(_root(request), unquote(request.match_info["file"]))  # re-check after mkdir
    path.write_bytes(body)
    return web.json_response(str(path.relative_to(_root(request))).replace(os.sep, "/"))


@routes.delete(r"/userdata/{file:[\s\S]+?}")
@refuse_unsafe_paths
async def delete_userdata(request: web.Request) -> web.Response:
    path = _path(request, request.match_info["file"])
    if not path.is_file():
        return json_error(404, "no such user data file", "not_found")
    path.unlink()
    return web.Response(status=204)

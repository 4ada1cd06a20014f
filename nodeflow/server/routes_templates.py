"""The workflow library: example workflows shipped with NodeFlow (web/examples/) and with plugin packs
(a pack's ``example_workflows/`` folder, as ComfyUI packs ship them), and which model folder each
file-picking input reads (for the editor's missing-models dialog).

ComfyUI's routes: ``GET /workflow_templates`` ({pack: [names]}) and
``GET /workflow_templates/{pack}/{file}`` (also under /api, like every route). NodeFlow's editor reads
``GET /nodeflow/templates`` (one list with both sources) and ``GET /nodeflow/model_inputs``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from nodeflow.folders import UnsafePath, safe_join

from .keys import CONFIG, REGISTRY
from .security import json_error

routes = web.RouteTableDef()

# Folder names a pack's examples may live in, preferred first (ComfyUI accepts the same names).
TEMPLATE_FOLDERS = ("example_workflows", "workflow", "workflows", "example", "examples")
THUMBNAIL_TYPES = (".jpg", ".jpeg", ".png", ".webp")
SERVED_TYPES = (".json", *THUMBNAIL_TYPES)


def _pack_folders(app: web.Application) -> dict[str, Path]:
    """pack name -> its examples folder, for every pack found (first one of TEMPLATE_FOLDERS it has)."""
    found: dict[str, Path] = {}
    for status in app[CONFIG].plugin_status:
        name = getattr(status, "name", None) or (status.get("name") if isinstance(status, dict) else None)
        path = getattr(status, "path", None) or (status.get("path") if isinstance(status, dict) else None)
        if not name or not path or name in found:
            continue
        for folder in TEMPLATE_FOLDERS:
            candidate = Path(path) / folder
            if candidate.is_dir():
                found[name] = candidate
                break
    return found


def _workflows_in(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json") if p.is_file())


def _thumbnail(folder: Path, stem: str) -> str | None:
    for ext in THUMBNAIL_TYPES:
        if (folder / f"{stem}{ext}").is_file():
            return f"{stem}{ext}"
    return None


@routes.get("/workflow_templates")
async def workflow_templates(request: web.Request) -> web.Response:
    """ComfyUI's shape: {pack name: [workflow names without .json]}; packs without examples left out."""
    listing = {name: _workflows_in(folder) for name, folder in _pack_folders(request.app).items()}
    return web.json_response({name: names for name, names in listing.items() if names})


@routes.get("/workflow_templates/{pack}/{file}")
async def workflow_template_file(request: web.Request) -> web.StreamResponse:
    pack, name = request.match_info["pack"], request.match_info["file"]
    folder = _pack_folders(request.app).get(pack)
    if folder is None:
        return json_error(
            404, f"no plugin pack named {pack[:80]!r} has example workflows; see GET /workflow_templates", "not_found"
        )
    if not name.lower().endswith(SERVED_TYPES):
        return json_error(404, f"{name[:80]!r} is not a workflow (.json) or thumbnail image", "not_found")
    try:
        path = safe_join(folder, name)
    except UnsafePath as exc:
        return json_error(400, f"bad file name: {exc}", "invalid_path")
    if not path.is_file():
        return json_error(404, f"{pack[:80]} has no example named {name[:80]!r}", "not_found")
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


@routes.get("/nodeflow/templates")
async def templates(request: web.Request) -> web.Response:
    """Every example workflow: [{source, name, url, thumbnail}], NodeFlow's own first, then each pack's."""
    items = []
    web_dir = request.app[CONFIG].web_dir
    examples = Path(web_dir) / "examples" if web_dir else None
    if examples and examples.is_dir():
        for stem in _workflows_in(examples):
            thumb = _thumbnail(examples, stem)
            items.append(
                {
                    "source": "NodeFlow",
                    "name": stem,
                    "url": f"examples/{stem}.json",
                    "thumbnail": f"examples/{thumb}" if thumb else None,
                }
            )
    for pack, folder in sorted(_pack_folders(request.app).items()):
        for stem in _workflows_in(folder):
            thumb = _thumbnail(folder, stem)
            base = f"api/workflow_templates/{pack}/"
            items.append(
                {
                    "source": pack,
                    "name": stem,
                    "url": base + f"{stem}.json",
                    "thumbnail": base + thumb if thumb else None,
                }
            )
    return web.json_response(items)


@routes.get("/nodeflow/model_inputs")
async def model_inputs(request: web.Request) -> web.Response:
    """{node class: {input name: model folder kind}} for inputs that pick a file from a model folder."""
    result: dict[str, dict[str, str]] = {}
    for spec in request.app[REGISTRY]:
        for decl in spec.inputs.values():
            files = getattr(decl.desc, "files", None) if decl.desc is not None else None
            if files and files not in ("input", "output", "temp"):
                result.setdefault(spec.name, {})[decl.name] = files
    return web.json_response(result)

"""/upload/image, /upload/mask and /view: files in and out of input/output/temp, never outside."""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import warnings
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from PIL import Image

from nodeflow.folders import UnsafePath, check_name, safe_join

from .bodies import MaskUploadForm, UploadForm, parse
from .keys import CONFIG, ENV
from .requests import BadRequest
from .security import json_error, refuse_unsafe_paths

routes = web.RouteTableDef()
F = TypeVar("F", bound=UploadForm)
IMAGE_FORMATS = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "WEBP": (".webp",),
    "GIF": (".gif",),
    "BMP": (".bmp",),
    "TIFF": (".tif", ".tiff"),
}
INLINE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "image/bmp",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/wav",
    "audio/ogg",
    "audio/flac",
}


def _folder(request: web.Request, kind: str | None, default: str = "input") -> Path:
    kind = kind or default
    if kind not in ("input", "output", "temp"):
        raise UnsafePath(f"type must be input, output or temp, got {kind[:40]!r}")
    return request.app[ENV].directory(kind)


def check_image(data: bytes, filename: str, max_pixels: int) -> str:
    """Decode enough to prove ``data`` is an image whose kind agrees with its name; return the format."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt, (width, height) = probe.format, probe.size
                if width * height > max_pixels:
                    raise ValueError(f"the image is {width}x{height}, over the limit of {max_pixels} pixels")
                probe.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValueError("the image is too large to decode safely (decompression bomb guard)") from None
    except ValueError:
        raise
    except Exception:
        raise ValueError("the file is not an image that can be decoded (PNG, JPEG, WebP, GIF, BMP, TIFF)") from None
    ext = os.path.splitext(filename)[1].lower()
    allowed = IMAGE_FORMATS.get(fmt)
    if allowed is None:
        raise ValueError(f"image format {fmt} is not accepted")
    if ext and ext not in allowed:
        raise ValueError(f"the file name ends in {ext} but the content is {fmt}; rename it to {allowed[0]}")
    return fmt


def _free_name(folder: Path, name: str, overwrite: bool) -> str:
    if overwrite or not (folder / name).exists():
        return name
    stem, ext = os.path.splitext(name)
    counter = 1
    while (folder / f"{stem} ({counter}){ext}").exists():
        counter += 1
    return f"{stem} ({counter}){ext}"


async def _read_upload(request: web.Request) -> tuple[dict, bytes | None, str]:
    if not request.content_type.startswith("multipart/"):
        raise ValueError("send the file as multipart/form-data with the field 'image'")
    fields: dict = {}
    data, filename = None, ""
    try:
        reader = await request.multipart()
        async for part in reader:
            if part.name == "image":
                filename = part.filename or "upload.png"
                data = await part.read(decode=False)
            elif part.name:
                fields[part.name] = (await part.read(decode=True)).decode("utf-8", "replace")
    except HttpProcessingError as exc:  # a part with malformed headers: the client's fault, not ours
        raise ValueError(f"the multipart body is malformed: {exc.message}"[:300]) from None
    return fields, data, filename


async def _save(request: web.Request, form: UploadForm, data: bytes, filename: str) -> web.Response:
    filename = os.path.basename(unquote(filename).replace("\\", "/"))
    check_name(filename, allow_subdirs=False)
    folder = _folder(request, form.type)
    target_dir = safe_join(folder, form.subfolder) if form.subfolder else folder
    target_dir.mkdir(parents=True, exist_ok=True)
    safe_join(folder, *(p for p in [form.subfolder] if p))  # re-check after mkdir (symlinks)
    overwrite = form.overwrite.lower() in ("true", "1")
    name = _free_name(target_dir, filename, overwrite)
    safe_join(target_dir, name).write_bytes(data)
    return web.json_response({"name": name, "subfolder": form.subfolder, "type": form.type})


def upload_errors(handler):
    """Route decorator: unsafe names and unusable images become 400s naming the problem."""

    @refuse_unsafe_paths
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ValueError as exc:
            return json_error(400, str(exc), "invalid_upload")

    return wrapped


async def _read_image_upload(request: web.Request, model: type[F]) -> tuple[F, bytes, str]:
    fields, data, filename = await _read_upload(request)
    try:
        form = parse(model, {**fields, **({"image": bytes(data)} if data is not None else {})})
    except BadRequest as exc:
        raise ValueError(exc.message) from None
    # decoding runs off the event loop: a large image must not stall other requests and the websocket
    await asyncio.to_thread(check_image, form.image, filename, request.app[CONFIG].max_upload_pixels)
    return form, form.image, filename


@routes.post("/upload/image")
@upload_errors
async def upload_image(request: web.Request) -> web.Response:
    form, data, filename = await _read_image_upload(request, UploadForm)
    return await _save(request, form, data, filename)


@routes.post("/upload/mask")
@upload_errors
async def upload_mask(request: web.Request) -> web.Response:
    """The uploaded image's alpha becomes the alpha of ``original_ref``; saved as PNG."""
    form, data, filename = await _read_image_upload(request, MaskUploadForm)
    ref = form.original_ref
    folder = _folder(request, ref.type)
    original_path = safe_join(folder, *(p for p in (ref.subfolder, ref.filename) if p))
    if not original_path.is_file():
        return json_error(404, f"original image {ref.filename[:100]!r} not found", "not_found")
    masked = await asyncio.to_thread(_with_alpha_of, original_path, data)
    name = os.path.splitext(os.path.basename(filename))[0] + ".png"
    return await _save(request, form, masked, name)


def _with_alpha_of(original_path: Path, mask_data: bytes) -> bytes:
    """The image at ``original_path`` with the alpha channel of the image in ``mask_data``, as PNG."""
    with Image.open(original_path) as original, Image.open(io.BytesIO(mask_data)) as mask:
        result = original.convert("RGBA")
        alpha = mask.convert("RGBA").getchannel("A").resize(result.size)
        result.putalpha(alpha)
        buf = io.BytesIO()
        result.save(buf, format="PNG")
    return buf.getvalue()


@routes.get("/view")
@refuse_unsafe_paths
async def view(request: web.Request) -> web.StreamResponse:
    query = request.query
    name = query.get("filename", "")
    if not name:
        return json_error(400, "give ?filename=NAME (and type=input|output|temp, subfolder=...)")
    folder = _folder(request, query.get("type"), default="output")
    path = safe_join(folder, *(p for p in (query.get("subfolder", ""), name) if p))
    if not path.is_file():
        return json_error(404, f"file {name[:100]!r} not found", "not_found")
    preview, channel = query.get("preview"), query.get("channel")
    if preview or channel:
        try:
            return await asyncio.to_thread(_converted, path, preview, channel)  # off the event loop
        except Exception as exc:
            return json_error(400, f"cannot convert {name[:100]!r}: {exc}")
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
    if ctype not in INLINE_TYPES:
        headers["Content-Disposition"] = f'attachment; filename="{path.name.encode("ascii", "replace").decode()}"'
        if ctype.startswith("text/") or ctype.endswith(("xml", "javascript", "json")) or "svg" in ctype:
            ctype = "application/octet-stream"
    return web.FileResponse(path, headers={**headers, "Content-Type": ctype})


def _converted(path: Path, preview: str | None, channel: str | None) -> web.Response:
    with Image.open(path) as img:
        img.load()
        if channel == "a":
            img = (
                img.convert("RGBA").getchannel("A").convert("RGB")
                if "A" in img.getbands()
                else Image.new("RGB", img.size, "white")
            )
        elif channel == "rgb":
            img = img.convert("RGB")
        fmt, quality = "PNG", 90
        if preview:
            kind, _, q = preview.partition(";")
            fmt = {"webp": "WEBP", "jpeg": "JPEG", "jpg": "JPEG", "png": "PNG"}.get(kind.lower(), "WEBP")
            quality = int(q) if q.isdigit() else 90
        if fmt == "JPEG":
            img = img.convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format=fmt, quality=quality)
    return web.Response(
        body=buf.getvalue(), content_type=f"image/{fmt.lower()}", headers={"X-Content-Type-Options": "nosniff"}
    )

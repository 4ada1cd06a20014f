"""Workflows inside images: PNG tEXt/iTXt chunks (prompt, workflow, nodeflow_workflow, A1111
parameters) and WebP EXIF strings written the ComfyUI way ("prompt:{json}" in the Model tag,
"workflow:{json}" in Make, further keys in the tags below it). ``workflow`` holds ComfyUI's editor
format (share.py); NodeFlow's own format rides along under ``nodeflow_workflow`` and wins here."""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image, PngImagePlugin

from .a1111 import parameters_to_prompt, parse_parameters
from .errors import WorkflowError
from .share import NODEFLOW_KEY, preferred_workflow

EXIF_MODEL, EXIF_MAKE = 0x0110, 0x010F
JSON_KEYS = ("prompt", "workflow", NODEFLOW_KEY)


def read_image_metadata(data: bytes) -> dict[str, Any]:
    """{"prompt", "workflow", "nodeflow_workflow": dict|None, "parameters": str|None} from PNG or WebP bytes."""
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        raise WorkflowError("not an image NodeFlow can read (PNG or WebP expected)") from None
    found: dict[str, Any] = {"prompt": None, "workflow": None, NODEFLOW_KEY: None, "parameters": None}
    with image:
        texts = dict(getattr(image, "text", {}) or {})
        if image.format == "WEBP" or not texts:
            for value in image.getexif().values():
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                if isinstance(value, str) and ":" in value:
                    key, _, rest = value.partition(":")
                    if key in JSON_KEYS:
                        texts.setdefault(key, rest)
    for key in JSON_KEYS:
        if key in texts:
            try:
                found[key] = json.loads(texts[key])
            except json.JSONDecodeError:
                raise WorkflowError(f"the image's {key!r} metadata is not valid JSON") from None
    found["parameters"] = texts.get("parameters")
    return found


def write_png(image: Image.Image, prompt: dict | None, extra: dict | None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt))
    for key, value in (extra or {}).items():
        info.add_text(key, json.dumps(value))
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def write_webp(image: Image.Image, prompt: dict | None, extra: dict | None, quality: int = 90) -> bytes:
    exif = Image.Exif()
    if prompt is not None:
        exif[EXIF_MODEL] = "prompt:" + json.dumps(prompt)
    tag = EXIF_MAKE
    for key, value in (extra or {}).items():
        exif[tag] = f"{key}:{json.dumps(value)}"
        tag -= 1
    buf = io.BytesIO()
    image.save(buf, format="WEBP", exif=exif, quality=quality)
    return buf.getvalue()


def workflow_from_image(data: bytes, object_info: dict) -> tuple[dict, list[dict]]:
    """A NodeFlow workflow from a NodeFlow/ComfyUI image (nodeflow_workflow, else workflow, else
    prompt) or A1111 parameters."""
    from .convert import to_nodeflow

    meta = read_image_metadata(data)
    workflow = preferred_workflow(meta)
    if workflow:
        return to_nodeflow(workflow, object_info)
    if meta["prompt"]:
        return to_nodeflow(meta["prompt"], object_info)
    if meta["parameters"]:
        return to_nodeflow(parameters_to_prompt(parse_parameters(meta["parameters"])), object_info)
    raise WorkflowError("the image carries no workflow, prompt or A1111 parameters")

"""Images in and out: LoadImage, LoadImageMask, SaveImage, PreviewImage."""

from __future__ import annotations

import hashlib
import json
import uuid

import numpy as np
import torch
from PIL import Image, ImageOps, ImageSequence, PngImagePlugin

from nodeflow.folders import UnsafePath, safe_join
from nodeflow.imaging.convert import image_to_pils, pil_to_image
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo, Hidden, Mask, String
from nodeflow.schema.types import Image as ImageSocket

from .output_names import next_counter, resolve_prefix


def _file_hash(env, name: str) -> str:
    digest = hashlib.sha256()
    with open(env.annotated_path(name), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_file(env, name: object) -> bool | str:
    """LoadImage's own check of its ``image`` input (it replaces the list check): a file listed in
    the input folder, or an annotated name "x.png [output]" / "x.png [input]" / "x.png [temp]"
    (ComfyUI's convention) that resolves inside that folder."""
    if not isinstance(name, str) or not name:
        return (
            f"image must be a file name from the input folder (optionally ending in [input], [output] or "
            f"[temp]), got {str(name)[:80]!r}; pick a file or upload one"
        )
    try:
        path = env.annotated_path(name)
    except UnsafePath as exc:
        return f"image {name[:120]!r} is not a safe file name: {exc}; pick a file from the list or upload one"
    if not path.is_file():
        return (
            f"image file {name[:120]!r} not found (looked for {path}); upload it, or pick another file "
            "(a file in the output or temp folder is named like 'x.png [output]')"
        )
    return True


def _image_path(env, name: str):
    """The file behind a checked name; FileNotFoundError naming the fix when it went away after
    the prompt was validated (deleted while the prompt waited in the queue)."""
    verdict = _check_file(env, name)
    if verdict is not True:
        raise FileNotFoundError(f"input 'image': {verdict}")
    return env.annotated_path(name)


class LoadImage(Node):
    """Load an image from the input folder; the mask is 1 where the image is transparent."""

    display_name = "Load Image"
    category = "image"
    inputs = {"image": Combo(files="input", image_upload=True)}
    outputs = {"IMAGE": ImageSocket(), "MASK": Mask()}
    validate_replaces = ("image",)  # also "x.png [output]" / "[temp]", which the list does not hold

    @classmethod
    def fingerprint(cls, env, image):
        return _file_hash(env, image)

    @classmethod
    def validate(cls, env, image):
        return _check_file(env, image)

    def run(self, image):
        with Image.open(_image_path(self.ctx.env, image)) as img:
            frames, masks = [], []
            for frame in ImageSequence.Iterator(img):
                frame = ImageOps.exif_transpose(frame)
                if frame.mode == "I":
                    frame = frame.point(lambda v: v * (1 / 255))
                if frames and frame.size != (frames[0].shape[2], frames[0].shape[1]):
                    continue  # frames of another size cannot join the batch
                frames.append(pil_to_image(frame))
                if "A" in frame.getbands():
                    alpha = np.asarray(frame.getchannel("A"), dtype=np.float32) / 255.0
                    masks.append(1.0 - torch.from_numpy(alpha.copy())[None])
                else:
                    masks.append(torch.zeros((1, 64, 64), dtype=torch.float32))
                if img.format == "MPO":
                    break
        if any(m.shape[1:] != masks[0].shape[1:] for m in masks):
            masks = [torch.zeros((1, 64, 64))] * len(frames)
        return torch.cat(frames), torch.cat(masks)


class LoadImageMask(Node):
    """Load one channel of an image as a mask (alpha: 1 where transparent)."""

    display_name = "Load Image (as Mask)"
    category = "mask"
    inputs = {
        "image": Combo(files="input", image_upload=True),
        "channel": Combo(choices=["alpha", "red", "green", "blue"]),
    }
    outputs = {"MASK": Mask()}
    validate_replaces = ("image",)  # also "x.png [output]" / "[temp]", which the list does not hold

    @classmethod
    def fingerprint(cls, env, image, channel):
        return _file_hash(env, image)

    @classmethod
    def validate(cls, env, image, channel):
        return _check_file(env, image)

    def run(self, image, channel):
        with Image.open(_image_path(self.ctx.env, image)) as img:
            img = ImageOps.exif_transpose(img)
            band = {"alpha": "A", "red": "R", "green": "G", "blue": "B"}[channel]
            if img.mode not in ("RGBA", "RGB"):
                img = img.convert("RGBA")
            if band not in img.getbands():
                return torch.zeros((1, 64, 64), dtype=torch.float32)
            values = torch.from_numpy(np.asarray(img.getchannel(band), dtype=np.float32).copy())[None] / 255.0
        return 1.0 - values if channel == "alpha" else values


def save_images(env, images: torch.Tensor, prefix: str, kind: str, prompt, extra_pnginfo) -> list[dict]:
    """Write PNGs ``{prefix}_{counter:05}_.png`` with prompt/workflow text chunks; return ui records."""
    folder, subfolder, stem = resolve_prefix(env, prefix, kind)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        counter = next_counter(folder, stem, ".png")
        results = []
        for pil in image_to_pils(images):
            info = PngImagePlugin.PngInfo()
            if prompt is not None:
                info.add_text("prompt", json.dumps(prompt))
            for key, value in (extra_pnginfo or {}).items():
                info.add_text(str(key), json.dumps(value))
            name = f"{stem}_{counter:05}_.png"
            pil.save(safe_join(folder, name), pnginfo=info, compress_level=4)
            results.append({"filename": name, "subfolder": subfolder, "type": kind})
            counter += 1
    except OSError as exc:
        raise OSError(
            f"cannot write images to {folder}: {exc.strerror or exc}; free some space or pick a "
            "writable output folder (--base-directory)"
        ) from exc
    return results


class SaveImage(Node):
    """Save images as PNG in the output folder, with the prompt and workflow embedded."""

    display_name = "Save Image"
    category = "image"
    output_node = True
    inputs = {
        "images": ImageSocket(),
        "filename_prefix": String(default="ComfyUI"),
        "prompt": Hidden("PROMPT"),
        "extra_pnginfo": Hidden("EXTRA_PNGINFO"),
    }
    outputs = {}

    def run(self, images, filename_prefix, prompt=None, extra_pnginfo=None):
        return NodeResult(
            ui={"images": save_images(self.ctx.env, images, filename_prefix, "output", prompt, extra_pnginfo)}
        )


class PreviewImage(Node):
    """Show images on the node without keeping them (temp folder)."""

    display_name = "Preview Image"
    category = "image"
    output_node = True
    inputs = {"images": ImageSocket(), "prompt": Hidden("PROMPT"), "extra_pnginfo": Hidden("EXTRA_PNGINFO")}
    outputs = {}

    def run(self, images, prompt=None, extra_pnginfo=None):
        prefix = f"preview_{uuid.uuid4().hex[:8]}"
        return NodeResult(ui={"images": save_images(self.ctx.env, images, prefix, "temp", prompt, extra_pnginfo)})

"""Image transforms: scale, invert, blend, crop, batch, empty, composite."""

from __future__ import annotations

import torch

from nodeflow.imaging.convert import as_mask, resize_image
from nodeflow.imaging.crop import center_crop
from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Boolean, Combo, Float, Image, Int, Mask

SCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]


class ImageScale(Node):
    display_name = "Upscale Image"
    category = "image/upscaling"
    inputs = {
        "image": Image(),
        "upscale_method": Combo(choices=SCALE_METHODS),
        "width": Int(default=512, min=0, max=MAX_RESOLUTION, step=1),
        "height": Int(default=512, min=0, max=MAX_RESOLUTION, step=1),
        "crop": Combo(choices=["disabled", "center"]),
    }
    outputs = {"IMAGE": Image()}

    def run(self, image, upscale_method, width, height, crop):
        if width == 0 and height == 0:
            return image
        _, h, w, _ = image.shape
        width = width or max(1, round(w * height / h))
        height = height or max(1, round(h * width / w))
        if crop == "center":
            image = center_crop(image, width, height)
        return resize_image(image, width, height, upscale_method)


class ImageScaleBy(Node):
    display_name = "Upscale Image By"
    category = "image/upscaling"
    inputs = {
        "image": Image(),
        "upscale_method": Combo(choices=SCALE_METHODS),
        "scale_by": Float(default=1.0, min=0.01, max=8.0, step=0.01),
    }
    outputs = {"IMAGE": Image()}

    def run(self, image, upscale_method, scale_by):
        _, h, w, _ = image.shape
        return resize_image(image, max(1, round(w * scale_by)), max(1, round(h * scale_by)), upscale_method)


class ImageInvert(Node):
    display_name = "Invert Image"
    category = "image"
    inputs = {"image": Image()}
    outputs = {"IMAGE": Image()}

    def run(self, image):
        return 1.0 - image


def _blend(a: torch.Tensor, b: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "normal":
        return b
    if mode == "multiply":
        return a * b
    if mode == "screen":
        return 1 - (1 - a) * (1 - b)
    if mode == "overlay":
        return torch.where(a <= 0.5, 2 * a * b, 1 - 2 * (1 - a) * (1 - b))
    if mode == "soft_light":  # the W3C compositing formula
        d = torch.where(a <= 0.25, ((16 * a - 12) * a + 4) * a, torch.sqrt(a))
        return torch.where(b <= 0.5, a - (1 - 2 * b) * a * (1 - a), a + (2 * b - 1) * (d - a))
    if mode == "difference":
        return (a - b).abs()
    raise ValueError(f"unknown blend mode {mode!r}")


class ImageBlend(Node):
    category = "image/postprocessing"
    inputs = {
        "image1": Image(),
        "image2": Image(),
        "blend_factor": Float(default=0.5, min=0.0, max=1.0, step=0.01),
        "blend_mode": Combo(choices=["normal", "multiply", "screen", "overlay", "soft_light", "difference"]),
    }
    outputs = {"IMAGE": Image()}

    def run(self, image1, image2, blend_factor, blend_mode):
        if image2.shape[1:3] != image1.shape[1:3]:
            image2 = resize_image(image2, image1.shape[2], image1.shape[1], "bicubic")
        blended = _blend(image1, image2, blend_mode)
        return (image1 * (1 - blend_factor) + blended * blend_factor).clamp(0, 1)


class ImageCrop(Node):
    display_name = "Image Crop"
    category = "image/transform"
    inputs = {
        "image": Image(),
        "width": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
        "height": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
        "x": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "y": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
    }
    outputs = {"IMAGE": Image()}

    def run(self, image, width, height, x, y):
        _, h, w, _ = image.shape
        x, y = min(x, w - 1), min(y, h - 1)
        return image[:, y : y + height, x : x + width, :]


class ImageBatch(Node):
    display_name = "Batch Images"
    category = "image"
    inputs = {"image1": Image(), "image2": Image()}
    outputs = {"IMAGE": Image()}

    def run(self, image1, image2):
        if image2.shape[1:3] != image1.shape[1:3]:
            image2 = resize_image(
                center_crop(image2, image1.shape[2], image1.shape[1]), image1.shape[2], image1.shape[1], "bilinear"
            )
        return torch.cat([image1, image2[..., : image1.shape[-1]]])


class EmptyImage(Node):
    category = "image"
    inputs = {
        "width": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
        "height": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
        "batch_size": Int(default=1, min=1, max=4096),
        "color": Int(default=0, min=0, max=16777215, step=1, display="color"),
    }
    outputs = {"IMAGE": Image()}

    def run(self, width, height, batch_size, color):
        rgb = torch.tensor([(color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF], dtype=torch.float32) / 255.0
        return rgb.expand(batch_size, height, width, 3).clone()


class ImageCompositeMasked(Node):
    """Paste ``source`` onto ``destination`` at (x, y), through an optional mask."""

    category = "image"
    inputs = {
        "destination": Image(),
        "source": Image(),
        "x": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "y": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "resize_source": Boolean(default=False),
        "mask": Mask(optional=True),
    }
    outputs = {"IMAGE": Image()}

    def run(self, destination, source, x, y, resize_source, mask=None):
        out = destination.clone()
        _, dh, dw, _ = out.shape
        if resize_source:
            source = resize_image(source, dw, dh, "bilinear")
        if source.shape[0] not in (1, out.shape[0]):
            raise ValueError(f"source batch {source.shape[0]} does not match destination batch {out.shape[0]}")
        h, w = min(source.shape[1], dh - y), min(source.shape[2], dw - x)
        if h <= 0 or w <= 0:
            return out
        region = source[:, :h, :w, : out.shape[-1]]
        if mask is None:
            weight = torch.ones((1, h, w, 1))
        else:
            m = as_mask(mask).float()[:, None]
            m = torch.nn.functional.interpolate(m, size=source.shape[1:3], mode="bilinear", align_corners=False)
            weight = m[:, 0, :h, :w, None]
        out[:, y : y + h, x : x + w] = region * weight + out[:, y : y + h, x : x + w] * (1 - weight)
        return out

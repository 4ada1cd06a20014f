"""comfy_extras.nodes_mask for custom-node packs: ``composite`` (the paste used by the composite
nodes) and the mask nodes, which run NodeFlow's built-ins (V1 method names, V3 ``execute``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import core_class, v3_execute
from nodeflow.nodes import image_ops as _images
from nodeflow.nodes import masks as _masks
from nodeflow.schema.types import MAX_RESOLUTION


def _to_batch(t: torch.Tensor, batch: int) -> torch.Tensor:
    if t.shape[0] == batch:
        return t
    return t.repeat(-(-batch // t.shape[0]), *([1] * (t.ndim - 1)))[:batch]


def composite(
    destination: torch.Tensor,
    source: torch.Tensor,
    x: int,
    y: int,
    mask: torch.Tensor | None = None,
    multiplier: int = 8,
    resize_source: bool = False,
) -> torch.Tensor:
    """Paste ``source`` into ``destination`` (both [B, C, H, W]; changed in place and returned) with
    its top-left corner at (x, y) given in pixels, ``multiplier`` pixels per element (8 for
    latents, 1 for images). ``mask`` ([H, W] or [B, H, W], resized to the source) blends; the source
    is first resized to the destination with ``resize_source``; parts outside are cut off."""
    source = source.to(destination.device, destination.dtype)
    if resize_source:
        source = F.interpolate(source, size=destination.shape[-2:], mode="bilinear", align_corners=False)
    source = _to_batch(source, destination.shape[0])
    sh, sw = source.shape[-2:]
    dh, dw = destination.shape[-2:]
    x = max(-sw * multiplier, min(x, dw * multiplier))
    y = max(-sh * multiplier, min(y, dh * multiplier))
    left, top = x // multiplier, y // multiplier
    if mask is None:
        weight = torch.ones_like(source[:, :1])
    else:
        weight = mask.to(destination.device, destination.dtype).reshape(-1, 1, *mask.shape[-2:])
        weight = _to_batch(F.interpolate(weight, size=(sh, sw), mode="bilinear", align_corners=False), source.shape[0])
    y0, y1, x0, x1 = max(top, 0), min(top + sh, dh), max(left, 0), min(left + sw, dw)
    if y1 <= y0 or x1 <= x0:
        return destination
    src = source[..., y0 - top : y1 - top, x0 - left : x1 - left]
    w = weight[..., y0 - top : y1 - top, x0 - left : x1 - left]
    destination[..., y0:y1, x0:x1] = w * src + (1 - w) * destination[..., y0:y1, x0:x1]
    return destination


class LatentCompositeMasked:
    """Paste ``source`` latents into ``destination`` at (x, y) pixels through an optional mask."""

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "composite"
    CATEGORY = "latent"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "destination": ("LATENT",),
                "source": ("LATENT",),
                "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                "resize_source": ("BOOLEAN", {"default": False}),
            },
            "optional": {"mask": ("MASK",)},
        }

    def composite(
        self, destination: dict, source: dict, x: int, y: int, resize_source: bool, mask: torch.Tensor | None = None
    ) -> tuple:
        out = dict(destination)
        out["samples"] = composite(destination["samples"].clone(), source["samples"], x, y, mask, 8, resize_source)
        return (out,)

    execute = v3_execute("composite")


ImageCompositeMasked = core_class(_images.ImageCompositeMasked, __name__)
SolidMask = core_class(_masks.SolidMask, __name__)
InvertMask = core_class(_masks.InvertMask, __name__)
MaskToImage = core_class(_masks.MaskToImage, __name__)
ImageToMask = core_class(_masks.ImageToMask, __name__)
GrowMask = core_class(_masks.GrowMask, __name__)
FeatherMask = core_class(_masks.FeatherMask, __name__)

__getattr__ = missing("comfy_extras.nodes_mask")

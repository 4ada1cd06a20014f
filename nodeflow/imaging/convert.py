"""Between PIL images and NodeFlow tensors (IMAGE [B,H,W,C] float 0..1, MASK [B,H,W])."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def pil_to_image(img: Image.Image) -> torch.Tensor:
    """One PIL image -> IMAGE [1,H,W,3]."""
    array = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy())[None]


def image_to_pils(image: torch.Tensor) -> list[Image.Image]:
    """IMAGE [B,H,W,C] -> one RGB (or RGBA) PIL image per batch item."""
    if image.dim() == 3:
        image = image[None]
    array = (image.detach().float().clamp(0, 1).cpu().numpy() * 255.0).round().astype(np.uint8)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(array.shape[-1])
    if mode is None:
        raise ValueError(f"an IMAGE needs 1, 3 or 4 channels, got {array.shape[-1]}")
    return [Image.fromarray(a[..., 0] if mode == "L" else a, mode) for a in array]


def as_mask(mask: torch.Tensor) -> torch.Tensor:
    """A MASK as [B,H,W]."""
    if mask.dim() == 2:
        return mask[None]
    if mask.dim() == 4 and mask.shape[-1] == 1:
        return mask[..., 0]
    if mask.dim() != 3:
        raise ValueError(f"a MASK must be [batch, height, width], got shape {list(mask.shape)}")
    return mask


def crop_to_aspect(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Crop channels-first [..., H, W] around its centre to the aspect ratio width:height."""
    h, w = samples.shape[-2:]
    if w * height > h * width:  # too wide
        new_w = max(1, round(h * width / height))
        left = (w - new_w) // 2
        return samples[..., left : left + new_w]
    new_h = max(1, round(w * height / width))
    top = (h - new_h) // 2
    return samples[..., top : top + new_h, :]


def resize_image(image: torch.Tensor, width: int, height: int, method: str) -> torch.Tensor:
    """Resize IMAGE [B,H,W,C] with nearest-exact, bilinear, area, bicubic or lanczos (PIL)."""
    if method == "lanczos":
        resized = [
            pil_to_image(p.resize((width, height), Image.Resampling.LANCZOS)) for p in image_to_pils(image[..., :3])
        ]
        return torch.cat(resized)
    x = image.permute(0, 3, 1, 2)
    kwargs = {"antialias": True, "align_corners": False} if method in ("bilinear", "bicubic") else {}
    x = torch.nn.functional.interpolate(x, size=(height, width), mode=method, **kwargs)
    return x.permute(0, 2, 3, 1).clamp(0, 1)

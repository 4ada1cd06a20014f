"""Centre crops of IMAGE tensors [B,H,W,C]: to an aspect ratio, to sides that are multiples of n."""

from __future__ import annotations

import torch


def center_crop(image: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Crop IMAGE to the aspect ratio width:height around its centre."""
    _, h, w, _ = image.shape
    if w * height > h * width:  # too wide
        new_w = max(1, round(h * width / height))
        left = (w - new_w) // 2
        return image[:, :, left : left + new_w]
    new_h = max(1, round(w * height / width))
    top = (h - new_h) // 2
    return image[:, top : top + new_h]


def crop_to_multiple(pixels: torch.Tensor, multiple: int = 8) -> torch.Tensor:
    """Centre-crop an IMAGE [B,H,W,C] so both sides are multiples of ``multiple``."""
    height, width = pixels.shape[1] // multiple * multiple, pixels.shape[2] // multiple * multiple
    if height == 0 or width == 0:
        raise ValueError(
            f"the image ({pixels.shape[2]}x{pixels.shape[1]}) is smaller than {multiple} pixels; "
            "scale it up before encoding"
        )
    top, left = (pixels.shape[1] - height) // 2, (pixels.shape[2] - width) // 2
    return pixels[:, top : top + height, left : left + width, :]

"""Image preprocessors built into the core, as in ComfyUI: hint images for ControlNets."""

from __future__ import annotations

import torch

from nodeflow.schema.node import Node
from nodeflow.schema.types import Float, Image


def canny_edges(image: torch.Tensor, low_threshold: float, high_threshold: float) -> torch.Tensor:
    """IMAGE [B,H,W,C] -> white-on-black Canny edges as an RGB IMAGE (kornia's Canny: grey, 5x5
    Gaussian, Sobel, non-maximum suppression, hysteresis between the two thresholds)."""
    from kornia.filters import canny

    if low_threshold > high_threshold:
        raise ValueError(f"low_threshold ({low_threshold}) must not be above high_threshold ({high_threshold})")
    _, edges = canny(image[..., :3].movedim(-1, 1).float(), low_threshold, high_threshold)
    return edges.repeat(1, 3, 1, 1).movedim(1, -1)


class Canny(Node):
    """Edges of an image (Canny), the hint a canny ControlNet or T2I-Adapter expects."""

    category = "image/preprocessors"
    inputs = {
        "image": Image(),
        "low_threshold": Float(default=0.4, min=0.01, max=0.99, step=0.01),
        "high_threshold": Float(default=0.8, min=0.01, max=0.99, step=0.01),
    }
    outputs = {"IMAGE": Image()}

    def run(self, image, low_threshold, high_threshold):
        return canny_edges(image, low_threshold, high_threshold)

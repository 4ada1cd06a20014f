"""comfy.ldm.wan.model for custom-node packs: Wan's sinusoidal position embedding."""

from __future__ import annotations

import torch

from nodeflow.comfy_compat import missing


def sinusoidal_embedding_1d(dim: int, position: torch.Tensor) -> torch.Tensor:
    """[N, dim] embedding of positions [N]: cosines then sines of position * 10000^(-i / (dim/2)),
    computed in float64, returned as float32."""
    if dim % 2:
        raise ValueError(f"sinusoidal_embedding_1d: dim must be even, got {dim}")
    half = dim // 2
    position = position.to(torch.float64)
    freqs = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64, device=position.device) / half)
    angles = torch.outer(position, freqs)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1).float()


__getattr__ = missing("comfy.ldm.wan.model")

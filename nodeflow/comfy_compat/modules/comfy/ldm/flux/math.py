"""comfy.ldm.flux.math for custom-node packs: Flux-style rotary position embedding and attention.

``rope(pos, dim, theta)`` gives, for every position and frequency pair, the 2x2 rotation matrix
[[cos, -sin], [sin, cos]] of angle pos * theta^(-2i/dim), shaped ``[..., n, dim/2, 2, 2]``;
``apply_rope`` rotates each consecutive pair of q/k features by its matrix."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.comfy_compat import missing


def rope(pos: torch.Tensor, dim: int, theta: float) -> torch.Tensor:
    if dim % 2:
        raise ValueError(f"rope: dim must be even, got {dim}")
    exponents = torch.arange(0, dim, 2, dtype=torch.float64, device=pos.device) / dim
    angles = pos.to(torch.float64)[..., None] * (1.0 / theta**exponents)
    cos, sin = torch.cos(angles), torch.sin(angles)
    matrix = torch.stack([cos, -sin, sin, cos], dim=-1)
    return matrix.reshape(*matrix.shape[:-1], 2, 2).float()


def _rotate(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    pairs = x.float().reshape(*x.shape[:-1], -1, 1, 2)  # [..., dim/2, 1, (a, b)]
    rotated = freqs_cis[..., 0] * pairs[..., 0] + freqs_cis[..., 1] * pairs[..., 1]  # rows of the matrix times (a, b)
    return rotated.reshape(*x.shape).type_as(x)


def apply_rope(xq: torch.Tensor, xk: torch.Tensor, freqs_cis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """q and k with each feature pair rotated by ``freqs_cis`` (from ``rope``)."""
    return _rotate(xq, freqs_cis), _rotate(xk, freqs_cis)


def apply_rope1(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """One tensor rotated by ``freqs_cis`` (from ``rope``)."""
    return _rotate(x, freqs_cis)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    pe: torch.Tensor | None,
    mask: Any = None,
    transformer_options: dict | None = None,
) -> torch.Tensor:
    """Flux attention: q, k, v are [B, heads, tokens, dim]; rotary embedding ``pe`` applied to q and
    k, then ``optimized_attention``; returns [B, tokens, heads*dim]."""
    import comfy.ldm.modules.attention as attention_module

    if pe is not None:
        q, k = apply_rope(q, k, pe)
    return attention_module.optimized_attention(
        q, k, v, q.shape[1], mask=mask, skip_reshape=True, transformer_options=transformer_options or {}
    )


__getattr__ = missing("comfy.ldm.flux.math")

"""comfy.ldm.common_dit for custom-node packs: helpers shared by the diffusion-transformer models."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from nodeflow.comfy_compat import missing


def pad_to_patch_size(
    img: torch.Tensor, patch_size: Sequence[int] = (2, 2), padding_mode: str = "circular"
) -> torch.Tensor:
    """Pad the trailing spatial dimensions of ``img`` up to multiples of ``patch_size`` (one size per
    trailing dimension, the last dimension last), at the end of each dimension."""
    if padding_mode == "circular" and (torch.jit.is_tracing() or torch.jit.is_scripting()):
        padding_mode = "reflect"
    pad: list[int] = []
    for i, size in enumerate(reversed(list(patch_size))):
        length = img.shape[-1 - i]
        pad += [0, (size - length % size) % size]
    if not any(pad):
        return img
    return F.pad(img, tuple(pad), mode=padding_mode)


def rms_norm(x: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-6) -> torch.Tensor:
    """Root-mean-square normalisation over the last dimension, times ``weight`` when given."""
    out = x * torch.rsqrt(x.float().pow(2).mean(dim=-1, keepdim=True) + eps).to(x.dtype)
    return out if weight is None else out * weight.to(device=x.device, dtype=x.dtype)


__getattr__ = missing("comfy.ldm.common_dit")

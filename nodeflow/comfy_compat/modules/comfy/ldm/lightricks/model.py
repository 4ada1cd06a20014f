"""comfy.ldm.lightricks.model for custom-node packs: LTX-Video's rotary position embedding."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from nodeflow.comfy_compat import missing


def apply_rotary_emb(input_tensor: torch.Tensor, freqs_cis: Sequence) -> torch.Tensor:
    """Rotary embedding with ``freqs_cis = (cos, sin)`` broadcastable to ``input_tensor``: each
    interleaved feature pair (a, b) becomes (a cos - b sin, b cos + a sin), the cos/sin values
    repeated per pair member. With a third, true item (``(cos, sin, True)``) the pairs are split
    instead: feature i pairs with feature i + dim/2 and cos/sin hold dim/2 values."""
    cos, sin = freqs_cis[0], freqs_cis[1]
    split = len(freqs_cis) > 2 and bool(freqs_cis[2])
    if split:
        half = input_tensor.shape[-1] // 2
        a, b = input_tensor[..., :half], input_tensor[..., half:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1).to(input_tensor.dtype)
    pairs = input_tensor.reshape(*input_tensor.shape[:-1], -1, 2)
    a, b = pairs.unbind(dim=-1)
    rotated_half = torch.stack([-b, a], dim=-1).reshape(input_tensor.shape)
    return (input_tensor * cos + rotated_half * sin).to(input_tensor.dtype)


__getattr__ = missing("comfy.ldm.lightricks.model")

"""comfy.ldm.modules.attention for custom-node packs: the attention functions and the transformer
blocks of SD-style models, under ComfyUI's names.

Every ``attention_*`` function takes ``(q, k, v, heads, mask=None, attn_precision=None,
skip_reshape=False, skip_output_reshape=False, **kwargs)``: q, k, v are ``[B, tokens, heads*dim]``
(``[B, heads, tokens, dim]`` with ``skip_reshape``) and the result is ``[B, tokens, heads*dim]``
(``[B, heads, tokens, dim]`` with ``skip_output_reshape``). ``mask`` is a boolean mask (True =
attend) or an additive float mask, shaped ``[q, k]``, ``[B, q, k]``, ``[B*heads, q, k]`` or
``[B, heads, q, k]``. All of them compute the same softmax attention; they differ in memory use.
Packs call ``optimized_attention`` or replace it (the blocks below look it up at call time).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import threading
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from nodeflow.comfy_compat import missing

AttentionFn = Callable[..., torch.Tensor]


def exists(val: Any) -> bool:
    return val is not None


def default(val: Any, d: Any) -> Any:
    """``val`` unless it is None, else ``d``."""
    return val if val is not None else d


def _split_heads(t: torch.Tensor, heads: int, skip_reshape: bool) -> torch.Tensor:
    if skip_reshape:
        return t
    b, n, inner = t.shape
    if inner % heads:
        raise ValueError(f"attention: width {inner} is not divisible by heads={heads}")
    return t.view(b, n, heads, inner // heads).transpose(1, 2)


def _merge_heads(out: torch.Tensor, skip_output_reshape: bool) -> torch.Tensor:
    if skip_output_reshape:
        return out
    b, h, n, d = out.shape
    return out.transpose(1, 2).reshape(b, n, h * d)


def _mask4(mask: torch.Tensor | None, batch: int, heads: int) -> torch.Tensor | None:
    """The mask as ``[B|1, heads|1, q, k]``."""
    if mask is None:
        return None
    if mask.ndim == 2:
        return mask[None, None]
    if mask.ndim == 3:
        if mask.shape[0] == batch * heads and heads > 1:
            return mask.reshape(batch, heads, *mask.shape[1:])
        return mask[:, None]
    return mask


def _additive(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, -torch.finfo(dtype).max)
    return mask.to(dtype)


def _prepare(q, k, v, heads, mask, skip_reshape):
    q, k, v = (_split_heads(t, heads, skip_reshape) for t in (q, k, v))
    return q, k, v, _mask4(mask, q.shape[0], q.shape[1])


def _softmax_chunk(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, attn_precision: torch.dtype | None
) -> torch.Tensor:
    """Plain softmax(q k^T / sqrt(d) + mask) v on ``[B, H, n, d]`` tensors."""
    compute = (
        torch.float32 if attn_precision == torch.float32 or q.dtype in (torch.float16, torch.bfloat16) else q.dtype
    )
    scores = torch.matmul(q.to(compute), k.to(compute).transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores + _additive(mask, compute)
    return torch.matmul(scores.softmax(dim=-1).to(v.dtype), v)


def attention_basic(
    q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False, **kwargs
) -> torch.Tensor:
    """Attention written out: scores, softmax, weighted sum (float32 scores for half inputs)."""
    q, k, v, mask = _prepare(q, k, v, heads, mask, skip_reshape)
    return _merge_heads(_softmax_chunk(q, k, v, mask, attn_precision), skip_output_reshape)


def attention_split(
    q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False, **kwargs
) -> torch.Tensor:
    """Basic attention over slices of the queries, so the score matrix never exceeds ~2^26 entries."""
    q, k, v, mask = _prepare(q, k, v, heads, mask, skip_reshape)
    b, h, n, _ = q.shape
    step = max(1, (1 << 26) // max(1, b * h * k.shape[2]))
    parts = []
    for start in range(0, n, step):
        m = mask[..., start : start + step, :] if mask is not None and mask.shape[-2] > 1 else mask
        parts.append(_softmax_chunk(q[:, :, start : start + step], k, v, m, attn_precision))
    return _merge_heads(torch.cat(parts, dim=2), skip_output_reshape)


def attention_sub_quad(
    query, key, value, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False, **kwargs
) -> torch.Tensor:
    """Memory-efficient attention: keys in chunks with a running (max, sum) softmax, so memory is
    linear in the number of keys."""
    q, k, v, mask = _prepare(query, key, value, heads, mask, skip_reshape)
    scale = q.shape[-1] ** -0.5
    qf = q.float() * scale
    running_max = torch.full((*q.shape[:-1], 1), -math.inf, device=q.device)
    total = torch.zeros_like(running_max)
    acc = torch.zeros((*q.shape[:-1], v.shape[-1]), device=q.device)
    chunk = 1024
    for start in range(0, k.shape[2], chunk):
        scores = torch.matmul(qf, k[:, :, start : start + chunk].float().transpose(-1, -2))
        if mask is not None:
            m = mask[..., start : start + chunk] if mask.shape[-1] > 1 else mask
            scores = scores + _additive(m, torch.float32)
        new_max = torch.maximum(running_max, scores.amax(dim=-1, keepdim=True))
        new_max = torch.where(torch.isinf(new_max), torch.zeros_like(new_max), new_max)
        correction = torch.exp(running_max - new_max)
        weights = torch.exp(scores - new_max)
        total = total * correction + weights.sum(dim=-1, keepdim=True)
        acc = acc * correction + torch.matmul(weights, v[:, :, start : start + chunk].float())
        running_max = new_max
    return _merge_heads((acc / total).to(v.dtype), skip_output_reshape)


def attention_pytorch(
    q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False, **kwargs
) -> torch.Tensor:
    """torch's scaled_dot_product_attention."""
    q, k, v, mask = _prepare(q, k, v, heads, mask, skip_reshape)
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.to(q.dtype)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, is_causal=False)
    return _merge_heads(out, skip_output_reshape)


def _needs(library: str, name: str) -> AttentionFn:
    """An attention function that exists only where ``library`` is installed (computed with torch's
    SDPA then: the same result; NodeFlow does not call the library itself)."""

    def call(q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False, **kwargs):
        if importlib.util.find_spec(library) is None:
            raise RuntimeError(
                f"comfy.ldm.modules.attention.{name} needs the {library!r} package, which is not "
                "installed; use optimized_attention instead"
            )
        return attention_pytorch(q, k, v, heads, mask, attn_precision, skip_reshape, skip_output_reshape)

    call.__name__ = call.__qualname__ = name
    return call


attention_xformers = _needs("xformers", "attention_xformers")
attention_sage = _needs("sageattention", "attention_sage")
attention_flash = _needs("flash_attn", "attention_flash")

_override = threading.local()


def wrap_attn(func: AttentionFn) -> AttentionFn:
    """Let ``transformer_options["optimized_attention_override"]`` (a function ``(func, *args,
    **kwargs)``) take over a call of ``func``; inside the override, ``func`` runs itself."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> torch.Tensor:
        override = (kwargs.get("transformer_options") or {}).get("optimized_attention_override")
        if override is None or getattr(_override, "active", False):
            return func(*args, **kwargs)
        _override.active = True
        try:
            return override(func, *args, **kwargs)
        finally:
            _override.active = False

    return wrapper


attention_basic = wrap_attn(attention_basic)
attention_split = wrap_attn(attention_split)
attention_sub_quad = wrap_attn(attention_sub_quad)
attention_pytorch = wrap_attn(attention_pytorch)

optimized_attention: AttentionFn = attention_pytorch
optimized_attention_masked: AttentionFn = attention_pytorch


def optimized_attention_for_device(device: Any = None, mask: bool = False, small_input: bool = False) -> AttentionFn:
    """The attention function to use on ``device`` (torch's SDPA everywhere in NodeFlow)."""
    return attention_pytorch


from .attention_blocks import (  # noqa: E402  (the blocks call back into this module's functions)
    GEGLU,
    BasicTransformerBlock,
    CrossAttention,
    FeedForward,
    SpatialTransformer,
)

__all__ = [
    "GEGLU",
    "BasicTransformerBlock",
    "CrossAttention",
    "FeedForward",
    "SpatialTransformer",
    "attention_basic",
    "attention_flash",
    "attention_pytorch",
    "attention_sage",
    "attention_split",
    "attention_sub_quad",
    "attention_xformers",
    "default",
    "exists",
    "optimized_attention",
    "optimized_attention_for_device",
    "optimized_attention_masked",
    "wrap_attn",
]

__getattr__ = missing("comfy.ldm.modules.attention")

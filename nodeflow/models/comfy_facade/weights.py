"""ComfyUI patch values -> weight changes, for ``add_patches`` and ``comfy.lora.calculate_weight``.

A ComfyUI patch list entry is ``(strength_patch, value, strength_model, offset, function)``; the
patched weight is ``weight * strength_model + strength_patch * change``. Values understood:
- a tensor or ``(tensor,)`` or ``("diff", (tensor,))``: the change itself (model merging);
- ``("set", (tensor,))``: the weight is replaced;
- ``("lora", (up, down, alpha, mid, dora_scale, reshape))``: ``up @ down * alpha / rank`` (a
  ``mid`` tensor makes it a Tucker-decomposed convolution);
- ``("loha", (w1a, w1b, alpha, w2a, w2b, t1, t2, dora_scale))`` and
  ``("lokr", (w1, w2, alpha, w1a, w1b, w2a, w2b, t2, dora_scale))``;
- a list ``[(weight, convert), *patches]`` (what ``get_key_patches`` gives): another model's weight
  with its own patches applied, added as a change;
- an object with ``calculate_weight(weight, key, strength, strength_model, offset, function, ...)``;
- ``("delta", (fn,))``: NodeFlow's own patches, ``fn(weight) -> change``.
DoRA scales and Tucker LoHa/LoKr are refused with a clear error rather than applied wrongly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

log = logging.getLogger(__name__)
Change = Callable[[torch.Tensor], torch.Tensor]


def split_value(value: Any, key: str) -> tuple[str, tuple]:
    """(kind, payload) of a ComfyUI patch value."""
    if isinstance(value, torch.Tensor):
        return "diff", (value,)
    if isinstance(value, list):
        return "model", tuple(value)
    if hasattr(value, "calculate_weight"):
        return "adapter", (value,)
    if isinstance(value, tuple):
        if len(value) == 1:
            return "diff", value
        if len(value) == 2 and isinstance(value[0], str):
            payload = value[1]
            return value[0], tuple(payload) if isinstance(payload, (tuple, list)) else (payload,)
    raise ValueError(f"patch for {key}: {type(value).__name__} is not a ComfyUI patch value NodeFlow knows")


def _fit(change: torch.Tensor, weight: torch.Tensor, key: str) -> torch.Tensor:
    if change.numel() != weight.numel():
        log.warning(
            "patch for %s has shape %s but the weight is %s: not applied", key, list(change.shape), list(weight.shape)
        )
        return torch.zeros_like(weight, dtype=torch.float32)
    return change.to(device=weight.device, dtype=torch.float32).reshape(weight.shape)


def _no_dora(dora_scale: Any, key: str, kind: str) -> None:
    if dora_scale is not None:
        raise ValueError(f"patch for {key}: {kind} with a DoRA scale is not supported by NodeFlow yet")


def _scale(alpha: Any, rank: int | None) -> float:
    return float(alpha) / rank if alpha is not None and rank else 1.0


def _lora(v: tuple, key: str) -> Change:
    up, down = v[0].float(), v[1].float()
    alpha, mid = v[2] if len(v) > 2 else None, v[3] if len(v) > 3 else None
    _no_dora(v[4] if len(v) > 4 else None, key, "LoRA")
    scale = _scale(alpha, down.shape[0])
    if mid is not None:  # Tucker: change[o, i, h, w] = up[o, a] mid[a, b, h, w] down[b, i]
        mid = mid.float()
        full = torch.einsum("oa,abhw,bi->oihw", up.flatten(1), mid, down.flatten(1)) * scale
        return lambda w: _fit(full, w, key)
    return lambda w: _fit((up.flatten(1) @ down.flatten(1)) * scale, w, key)


def _loha(v: tuple, key: str) -> Change:
    w1a, w1b, alpha, w2a, w2b = (v[i] for i in range(5))
    if (len(v) > 5 and v[5] is not None) or (len(v) > 6 and v[6] is not None):
        raise ValueError(f"patch for {key}: Tucker LoHa is not supported by NodeFlow yet")
    _no_dora(v[7] if len(v) > 7 else None, key, "LoHa")
    change = (w1a.float() @ w1b.float()) * (w2a.float() @ w2b.float()) * _scale(alpha, w1b.shape[0])
    return lambda w: _fit(change, w, key)


def _lokr(v: tuple, key: str) -> Change:
    w1, w2, alpha, w1a, w1b, w2a, w2b = (v[i] if len(v) > i else None for i in range(7))
    if len(v) > 7 and v[7] is not None:
        raise ValueError(f"patch for {key}: Tucker LoKr is not supported by NodeFlow yet")
    _no_dora(v[8] if len(v) > 8 else None, key, "LoKr")
    rank = w2b.shape[0] if w2b is not None else (w1b.shape[0] if w1b is not None else None)
    w1 = w1.float() if w1 is not None else w1a.float() @ w1b.float()
    w2 = w2.float() if w2 is not None else w2a.float() @ w2b.float()

    def change(w: torch.Tensor) -> torch.Tensor:
        if w2.dim() == 4 and w1.dim() == 2:
            return _fit(torch.kron(w1[:, :, None, None], w2) * _scale(alpha, rank), w, key)
        return _fit(torch.kron(w1, w2) * _scale(alpha, rank), w, key)

    return change


def _merged(v: tuple, key: str) -> Change:
    base = v[0][0]
    convert = v[0][1] if len(v[0]) > 1 and callable(v[0][1]) else None
    rest = list(v[1:])

    def change(w: torch.Tensor) -> torch.Tensor:
        other = base.to(torch.float32).clone()
        if convert is not None:
            other = convert(other, inplace=True)
        return _fit(calculate_weight(rest, other, key), w, key)

    return change


def change_of(value: Any, key: str) -> Change | None:
    """``fn(weight) -> change`` for an additive patch value; None for a ``set`` patch."""
    kind, v = split_value(value, key)
    if kind == "diff":
        return lambda w: _fit(v[0].float(), w, key)
    if kind == "set":
        return None
    if kind == "delta":
        return v[0]
    if kind == "adapter":
        adapter = v[0]
        return lambda w: (
            adapter.calculate_weight(w.float().clone(), key, 1.0, 1.0, None, None, torch.float32) - w.float()
        )
    makers = {"lora": _lora, "loha": _loha, "lokr": _lokr, "model": _merged}
    if kind not in makers:
        raise ValueError(f"patch for {key}: ComfyUI patch type {kind!r} is not supported by NodeFlow")
    return makers[kind](v, key)


def calculate_weight(
    patches: list,
    weight: torch.Tensor,
    key: str,
    intermediate_dtype: torch.dtype = torch.float32,
    original_weights: Any = None,
) -> torch.Tensor:
    """``weight`` with ComfyUI patch entries applied in order (``weight`` itself is updated when it
    already has ``intermediate_dtype``, as ComfyUI does)."""
    weight = weight.to(intermediate_dtype)
    for entry in patches:
        strength, value = float(entry[0]), entry[1]
        strength_model = float(entry[2]) if len(entry) > 2 else 1.0
        offset = entry[3] if len(entry) > 3 else None
        function = entry[4] if len(entry) > 4 else None
        target = weight if offset is None else weight.narrow(offset[0], offset[1], offset[2])
        if strength_model != 1.0:
            target.mul_(strength_model)
        change = change_of(value, key)
        if change is None:
            target.copy_(split_value(value, key)[1][0].to(target))
            continue
        delta = change(target)
        if function is not None:
            delta = function(delta)
        if strength != 0.0:
            target.add_(delta.to(target.dtype), alpha=strength)
    return weight

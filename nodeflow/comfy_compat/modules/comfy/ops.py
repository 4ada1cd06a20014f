"""comfy.ops for custom-node packs: torch layer classes under ComfyUI's names.

``disable_weight_init`` is a namespace of ``torch.nn`` layer subclasses that skip the random
initialisation (their weights are loaded afterwards) and, when a layer's ``comfy_cast_weights``
is set or it carries ``weight_function``/``bias_function`` patches, cast weight and bias to the
input's dtype and device at call time. ``manual_cast`` is the same with casting always on. Packs
build modules with these namespaces (``operations=comfy.ops.manual_cast``), subclass the layers
(GGUF loaders) or replace their ``forward_comfy_cast_weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from nodeflow.comfy_compat import missing


def cast_to(
    weight: torch.Tensor | None,
    dtype: torch.dtype | None = None,
    device: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
    stream: Any = None,
) -> torch.Tensor | None:
    """``weight`` in ``dtype`` on ``device`` (the tensor itself when nothing changes and no copy is asked)."""
    if weight is None:
        return None
    same_device = device is None or weight.device == torch.device(device)
    if not copy and same_device and (dtype is None or weight.dtype == dtype):
        return weight
    return weight.to(device=device, dtype=dtype, non_blocking=non_blocking, copy=copy)


def _patched(tensor: torch.Tensor | None, functions: list[Callable]) -> torch.Tensor | None:
    for fn in functions:
        tensor = fn(tensor)
    return tensor


def cast_bias_weight(
    s: torch.nn.Module,
    input: torch.Tensor | None = None,
    dtype: torch.dtype | None = None,
    device: Any = None,
    bias_dtype: torch.dtype | None = None,
    offloadable: bool = False,
):
    """The layer's (weight, bias) cast to ``input``'s dtype and device (or the ones given), with the
    layer's ``weight_function``/``bias_function`` patches applied. ``offloadable=True`` returns a
    third item, the offload stream (always None: NodeFlow places whole models)."""
    if input is not None:
        dtype = dtype if dtype is not None else input.dtype
        device = device if device is not None else input.device
    bias_dtype = bias_dtype if bias_dtype is not None else dtype
    weight_fns = list(getattr(s, "weight_function", ()))
    bias_fns = list(getattr(s, "bias_function", ()))
    weight = _patched(cast_to(s.weight, dtype, device, copy=bool(weight_fns)), weight_fns)
    bias = None
    if getattr(s, "bias", None) is not None:
        bias = _patched(cast_to(s.bias, bias_dtype, device, copy=bool(bias_fns)), bias_fns)
    return (weight, bias, None) if offloadable else (weight, bias)


def uncast_bias_weight(s: torch.nn.Module, weight: Any, bias: Any, offload_stream: Any) -> None:
    """Counterpart of ``cast_bias_weight(offloadable=True)``; nothing to release in NodeFlow."""


class CastWeightBiasOp:
    """Mixin of every layer here: no random init, optional casting, weight patches."""

    comfy_cast_weights = False
    weight_function: list = []
    bias_function: list = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weight_function = []  # per layer, so appending to one layer's list patches only that layer
        self.bias_function = []

    def reset_parameters(self) -> None:
        return None  # weights are loaded, not initialised

    def _casting(self) -> bool:
        return bool(self.comfy_cast_weights or self.weight_function or self.bias_function)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._casting():
            return self.forward_comfy_cast_weights(*args, **kwargs)
        return super().forward(*args, **kwargs)


class disable_weight_init:
    """Layers that skip weight init and cast only when asked (``comfy_cast_weights``)."""

    class Linear(CastWeightBiasOp, torch.nn.Linear):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight, bias = cast_bias_weight(self, input)
            return F.linear(input, weight, bias)

    class Conv1d(CastWeightBiasOp, torch.nn.Conv1d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class Conv2d(CastWeightBiasOp, torch.nn.Conv2d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class Conv3d(CastWeightBiasOp, torch.nn.Conv3d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class GroupNorm(CastWeightBiasOp, torch.nn.GroupNorm):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight, bias = cast_bias_weight(self, input)
            return F.group_norm(input, self.num_groups, weight, bias, self.eps)

    class LayerNorm(CastWeightBiasOp, torch.nn.LayerNorm):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight = bias = None
            if self.weight is not None:
                weight, bias = cast_bias_weight(self, input)
            return F.layer_norm(input, self.normalized_shape, weight, bias, self.eps)

    class RMSNorm(CastWeightBiasOp, torch.nn.RMSNorm):
        bias = None

        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:
            weight = cast_bias_weight(self, input)[0] if self.weight is not None else None
            return F.rms_norm(input, self.normalized_shape, weight, self.eps)

    class ConvTranspose1d(CastWeightBiasOp, torch.nn.ConvTranspose1d):
        def forward_comfy_cast_weights(self, input: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
            padding = self._output_padding(
                input, output_size, self.stride, self.padding, self.kernel_size, 1, self.dilation
            )
            weight, bias = cast_bias_weight(self, input)
            return F.conv_transpose1d(
                input, weight, bias, self.stride, self.padding, padding, self.groups, self.dilation
            )

    class ConvTranspose2d(CastWeightBiasOp, torch.nn.ConvTranspose2d):
        def forward_comfy_cast_weights(self, input: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
            padding = self._output_padding(
                input, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation
            )
            weight, bias = cast_bias_weight(self, input)
            return F.conv_transpose2d(
                input, weight, bias, self.stride, self.padding, padding, self.groups, self.dilation
            )

    class Embedding(CastWeightBiasOp, torch.nn.Embedding):
        bias = None

        def forward_comfy_cast_weights(self, input: torch.Tensor, out_dtype: torch.dtype | None = None) -> torch.Tensor:
            weight = cast_bias_weight(self, device=input.device, dtype=out_dtype)[0]
            out = F.embedding(
                input, weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
            )
            return out if out_dtype is None else out.to(out_dtype)

        def forward(self, input: torch.Tensor, out_dtype: torch.dtype | None = None) -> torch.Tensor:
            if self._casting():
                return self.forward_comfy_cast_weights(input, out_dtype=out_dtype)
            out = torch.nn.Embedding.forward(self, input)
            return out if out_dtype is None else out.to(out_dtype)

    @classmethod
    def conv_nd(cls, dims: int, *args: Any, **kwargs: Any) -> torch.nn.Module:
        """A Conv2d or Conv3d of this namespace (``dims`` 2 or 3)."""
        if dims == 2:
            return cls.Conv2d(*args, **kwargs)
        if dims == 3:
            return cls.Conv3d(*args, **kwargs)
        raise ValueError(f"conv_nd: unsupported dimensions {dims} (2 or 3)")


class manual_cast(disable_weight_init):
    """``disable_weight_init`` with casting always on (weights kept in a storage dtype)."""

    class Linear(disable_weight_init.Linear):
        comfy_cast_weights = True

    class Conv1d(disable_weight_init.Conv1d):
        comfy_cast_weights = True

    class Conv2d(disable_weight_init.Conv2d):
        comfy_cast_weights = True

    class Conv3d(disable_weight_init.Conv3d):
        comfy_cast_weights = True

    class GroupNorm(disable_weight_init.GroupNorm):
        comfy_cast_weights = True

    class LayerNorm(disable_weight_init.LayerNorm):
        comfy_cast_weights = True

    class RMSNorm(disable_weight_init.RMSNorm):
        comfy_cast_weights = True

    class ConvTranspose1d(disable_weight_init.ConvTranspose1d):
        comfy_cast_weights = True

    class ConvTranspose2d(disable_weight_init.ConvTranspose2d):
        comfy_cast_weights = True

    class Embedding(disable_weight_init.Embedding):
        comfy_cast_weights = True


def pick_operations(
    weight_dtype: torch.dtype | None,
    compute_dtype: torch.dtype | None,
    load_device: Any = None,
    disable_fast_fp8: bool = False,
    fp8_optimizations: bool = False,
    scaled_fp8: Any = None,
    model_config: Any = None,
) -> type:
    """``manual_cast`` when weights are stored in another dtype than the one computed in, else
    ``disable_weight_init``."""
    if compute_dtype is None or weight_dtype == compute_dtype:
        return disable_weight_init
    return manual_cast


__getattr__ = missing("comfy.ops")

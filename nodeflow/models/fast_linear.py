"""Linear layers through oneDNN's matrix multiply on the CPU.

For fp32 on the CPU, ``F.linear`` goes to MKL, whose GEMM reads a UNet's weights at 3-5 GB/s when a
layer sees few rows (a 64x64 image is 8 tokens at SDXL's deepest level, 154 context rows in
cross-attention); oneDNN's inner product, called on the same plain weights (no packed copy, no
extra memory), runs those shapes about 2x faster on this 2-core CPU. The result is the same sum
in another order (about 1e-6 relative). Other devices and dtypes, autograd, and builds without the
op use ``F.linear``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .half_storage import HALF, NATIVE_ROWS, widened
from .native import half_gemm


def _onednn_linear():
    """torch's oneDNN linear op when this build has a working one, else None."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        op = torch.ops.mkldnn._linear_pointwise
        probe = op(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4), "none", [], "")
    except (AttributeError, RuntimeError):
        return None
    return op if torch.equal(probe, torch.full((2, 4), 3.0)) else None


_ONEDNN = _onednn_linear()


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear`` with oneDNN's kernel for fp32 CPU inference; a 16-bit ``weight`` with an fp32 ``x``
    (``half_storage``) computes in fp32 too."""
    if weight.dtype in HALF and x.dtype == torch.float32:
        return _half_weight_linear(x, weight, bias)
    if (
        _ONEDNN is not None
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and x.device.type == "cpu"
        and weight.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and not torch.compiler.is_compiling()  # TorchCompileModel: inductor takes this op only on frozen weights
    ):
        return _ONEDNN(x, weight, bias, "none", [], "")
    return F.linear(x, weight, bias)


def _half_weight_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    inference = not (torch.is_grad_enabled() and x.requires_grad)
    if inference and x.device.type == "cpu" and weight.device.type == "cpu" and not torch.compiler.is_compiling():
        rows = x.numel() // max(1, weight.shape[-1])
        if rows <= NATIVE_ROWS and weight.is_contiguous() and half_gemm.kernel() is not None:
            return half_gemm.half_linear(x, weight, bias)
    return linear(x, widened(weight, x.dtype), bias)


class OneDNNLinear(torch.nn.Linear):
    """An ``nn.Linear`` (same parameters and state dict) computed by ``linear``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)

"""Convolutions on small feature maps as one matrix multiply.

At the deep levels of a UNet run on small latents (a 64x64 image is an 8x8 latent: the UNet's
lowest levels are 2x2 and 1x1), oneDNN's convolution kernels read their weights at 1-3 GB/s and
dominate a step (about 80% of an SD1.5 step at 8x8 on a 2-core CPU). Written as im2col
(``F.unfold``) plus one GEMM with the batch folded into the rows, the same convolution runs 2-5x
faster; on a 1x1 map a 3x3 convolution with padding 1 only ever meets its centre tap, so it is a
plain linear layer over the centre weights (a ninth of the bytes).

The result is the same sum in another order: it differs from torch's convolution in the last bits
(about 1e-6 relative per layer; ``bench/sd.py`` reports the difference on a whole image).
``--plain-kernels`` keeps torch's kernels everywhere (``kernels.py``). Feature maps larger than ``MAX_PIXELS``
output pixels use torch's kernels, which win there."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .fast_linear import linear
from .half_storage import widened

MAX_PIXELS = 64  # output pixels per image up to which the GEMM form is faster (measured: 1x1 to 8x8)


class SmallInputConv2d(torch.nn.Conv2d):
    """A Conv2d (same parameters, same state dict) that multiplies small inputs as one GEMM."""

    _centre: tuple | None = None  # ((weight data_ptr, weight version), centre taps) of a 3x3 kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or self.groups != 1 or self.padding_mode != "zeros" or isinstance(self.padding, str):
            return self._torch_conv(x)
        n, _, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel_size, self.stride, self.padding, self.dilation
        out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if out_h * out_w > MAX_PIXELS or out_h < 1 or out_w < 1:
            return self._torch_conv(x)
        weight = self.weight
        if h == 1 and w == 1 and (kh, kw) == (3, 3) and (ph, pw) == (1, 1) and (dh, dw) == (1, 1):
            rows = linear(x.reshape(n, -1), self._centre_taps(), self.bias)  # the other taps meet only padding
            return rows.reshape(n, -1, out_h, out_w)
        if (kh, kw) == (1, 1) and (ph, pw) == (0, 0):
            cols = x[:, :, ::sh, ::sw].flatten(2)  # [n, C, L]
        else:
            cols = F.unfold(x, (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))  # [n, C*kh*kw, L]
        rows = linear(cols.transpose(1, 2).reshape(n * out_h * out_w, -1), weight.flatten(1), self.bias)
        return rows.reshape(n, out_h * out_w, -1).transpose(1, 2).reshape(n, -1, out_h, out_w)

    def _torch_conv(self, x: torch.Tensor) -> torch.Tensor:
        """torch's convolution; 16-bit weights (``half_storage``) widened to ``x``'s dtype first."""
        return self._conv_forward(x, widened(self.weight, x.dtype), self.bias)

    def _centre_taps(self) -> torch.Tensor:
        """The centre column of the 3x3 kernel as a contiguous [out, in] matrix, rebuilt when the
        weight changes (a LoRA patched in place bumps its version)."""
        weight = self.weight
        if torch.compiler.is_compiling():  # TorchCompileModel: no Python-side cache in a compiled graph
            return weight[:, :, 1, 1]
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
        if self._centre is None or self._centre[0] != key:
            self._centre = (key, weight[:, :, 1, 1].contiguous())
        return self._centre[1]

"""Building blocks of the SD UNet (re-exported by comfy.ldm.modules.diffusionmodules.openaimodel):
residual blocks conditioned on the timestep embedding, up- and down-sampling. Parameter names
follow the released checkpoints (``in_layers.2``, ``emb_layers.1``, ``op``, ``conv``...)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

import comfy.ops

Ops = Any


def _f(dtype: Any, device: Any) -> dict:
    return {"dtype": dtype, "device": device}


class TimestepBlock(torch.nn.Module):
    """A module whose forward takes the timestep embedding as a second argument."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Upsample(torch.nn.Module):
    """Nearest-neighbour 2x upsampling (to ``output_shape`` when given), then an optional 3x3 conv."""

    def __init__(
        self,
        channels: int,
        use_conv: bool,
        dims: int = 2,
        out_channels: int | None = None,
        padding: int = 1,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        self.channels, self.out_channels = channels, out_channels or channels
        self.use_conv, self.dims = use_conv, dims
        if use_conv:
            self.conv = operations.conv_nd(dims, channels, self.out_channels, 3, padding=padding, **_f(dtype, device))

    def forward(self, x: torch.Tensor, output_shape: Any = None) -> torch.Tensor:
        if x.shape[1] != self.channels:
            raise ValueError(f"Upsample: expected {self.channels} channels, got {x.shape[1]}")
        if self.dims == 3:
            size = [x.shape[2], x.shape[3] * 2, x.shape[4] * 2]
            if output_shape is not None:
                size[1:] = list(output_shape[3:5])
        else:
            size = [x.shape[2] * 2, x.shape[3] * 2]
            if output_shape is not None:
                size = list(output_shape[2:4])
        x = F.interpolate(x, size=size, mode="nearest")
        return self.conv(x) if self.use_conv else x


class Downsample(torch.nn.Module):
    """2x downsampling: a stride-2 3x3 conv (``use_conv``) or average pooling."""

    def __init__(
        self,
        channels: int,
        use_conv: bool,
        dims: int = 2,
        out_channels: int | None = None,
        padding: int = 1,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        self.channels, self.out_channels = channels, out_channels or channels
        stride = 2 if dims != 3 else (1, 2, 2)
        if use_conv:
            self.op = operations.conv_nd(
                dims, channels, self.out_channels, 3, stride=stride, padding=padding, **_f(dtype, device)
            )
        else:
            if self.channels != self.out_channels:
                raise ValueError("Downsample without a conv cannot change the channel count")
            self.op = (torch.nn.AvgPool2d if dims == 2 else torch.nn.AvgPool3d)(kernel_size=stride, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ResBlock(TimestepBlock):
    """GroupNorm-SiLU-conv, plus the projected timestep embedding (added, or as scale and shift),
    GroupNorm-SiLU-dropout-conv; a skip connection (1x1 or 3x3 conv when the width changes)."""

    def __init__(
        self,
        channels: int,
        emb_channels: int,
        dropout: float,
        out_channels: int | None = None,
        use_conv: bool = False,
        use_scale_shift_norm: bool = False,
        dims: int = 2,
        use_checkpoint: bool = False,
        up: bool = False,
        down: bool = False,
        kernel_size: int = 3,
        exchange_temb_dims: bool = False,
        skip_t_emb: bool = False,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        f = _f(dtype, device)
        self.channels, self.out_channels = channels, out_channels or channels
        self.use_scale_shift_norm, self.exchange_temb_dims, self.skip_t_emb = (
            use_scale_shift_norm,
            exchange_temb_dims,
            skip_t_emb,
        )
        padding = kernel_size // 2
        self.in_layers = torch.nn.Sequential(
            operations.GroupNorm(32, channels, **f),
            torch.nn.SiLU(),
            operations.conv_nd(dims, channels, self.out_channels, kernel_size, padding=padding, **f),
        )
        self.updown = up or down
        if up:
            self.h_upd = Upsample(channels, False, dims, **f)
            self.x_upd = Upsample(channels, False, dims, **f)
        elif down:
            self.h_upd = Downsample(channels, False, dims, **f)
            self.x_upd = Downsample(channels, False, dims, **f)
        else:
            self.h_upd = self.x_upd = torch.nn.Identity()
        if skip_t_emb:
            self.emb_layers = None
        else:
            width = 2 * self.out_channels if use_scale_shift_norm else self.out_channels
            self.emb_layers = torch.nn.Sequential(torch.nn.SiLU(), operations.Linear(emb_channels, width, **f))
        self.out_layers = torch.nn.Sequential(
            operations.GroupNorm(32, self.out_channels, **f),
            torch.nn.SiLU(),
            torch.nn.Dropout(p=dropout),
            operations.conv_nd(dims, self.out_channels, self.out_channels, kernel_size, padding=padding, **f),
        )
        if self.out_channels == channels:
            self.skip_connection = torch.nn.Identity()
        elif use_conv:
            self.skip_connection = operations.conv_nd(
                dims, channels, self.out_channels, kernel_size, padding=padding, **f
            )
        else:
            self.skip_connection = operations.conv_nd(dims, channels, self.out_channels, 1, **f)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.updown:
            h = self.in_layers[:-1](x)
            h = self.in_layers[-1](self.h_upd(h))
            x = self.x_upd(x)
        else:
            h = self.in_layers(x)
        norm, rest = self.out_layers[0], self.out_layers[1:]
        if self.emb_layers is None:
            return self.skip_connection(x) + rest(norm(h))
        emb_out = self.emb_layers(emb).to(h.dtype)
        while emb_out.ndim < h.ndim:
            emb_out = emb_out[..., None]
        if self.exchange_temb_dims and emb_out.ndim == 5:
            emb_out = emb_out.movedim(1, 2)
        if self.use_scale_shift_norm:
            scale, shift = emb_out.chunk(2, dim=1)
            h = rest(norm(h) * (1 + scale) + shift)
        else:
            h = rest(norm(h + emb_out))
        return self.skip_connection(x) + h

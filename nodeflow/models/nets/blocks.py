"""Building blocks shared by NodeFlow's own UNet and VAE: the residual block and the 2x down/up
samplers, with the attribute names, parameters and numbers of diffusers' ``ResnetBlock2D``
(default time shift, output scale 1), ``Downsample2D`` and ``Upsample2D`` (with a convolution)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# diffusers makes tensors contiguous before nearest upsampling at these sizes (kernel limits)
_CONTIGUOUS_BATCH = 64
_CONTIGUOUS_ELEMENTS = 2**31


class ResnetBlock2D(nn.Module):
    """GroupNorm-SiLU-conv twice, the timestep embedding (if any) added between, and a 1x1
    shortcut when the channel count changes."""

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int | None, groups: int, eps: float):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.norm1 = nn.GroupNorm(num_groups=groups, num_channels=in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels) if temb_channels else None
        self.norm2 = nn.GroupNorm(num_groups=groups, num_channels=out_channels, eps=eps, affine=True)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.nonlinearity = nn.SiLU()
        self.conv_shortcut = None
        if in_channels != out_channels:
            self.conv_shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(self.nonlinearity(self.norm1(x)))
        if self.time_emb_proj is not None and temb is not None:
            h = h + self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
        h = self.conv2(self.dropout(self.nonlinearity(self.norm2(h))))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x.contiguous() if self.training else x)
        return x + h


class Downsample2D(nn.Module):
    """A 3x3 stride-2 convolution; ``padding=0`` pads right and bottom by one first (the VAE
    encoder's asymmetric padding)."""

    def __init__(self, channels: int, out_channels: int | None = None, padding: int = 1):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.padding = padding
        self.conv = nn.Conv2d(channels, self.out_channels, kernel_size=3, stride=2, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0)
        return self.conv(x)


class Upsample2D(nn.Module):
    """Nearest-neighbour 2x upsampling (or to ``size``), then a 3x3 convolution."""

    def __init__(self, channels: int, out_channels: int | None = None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.conv = nn.Conv2d(channels, self.out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        if x.shape[0] >= _CONTIGUOUS_BATCH:
            x = x.contiguous()
        if size is None:
            if x.numel() * 2 > _CONTIGUOUS_ELEMENTS:
                x = x.contiguous()
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        else:
            scale = max(out / now for out, now in zip(size, x.shape[-2:], strict=True))
            if x.numel() * scale > _CONTIGUOUS_ELEMENTS:
                x = x.contiguous()
            x = F.interpolate(x, size=size, mode="nearest")
        return self.conv(x)

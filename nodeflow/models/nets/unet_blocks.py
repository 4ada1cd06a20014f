"""The UNet's levels with diffusers' names: down blocks (res blocks, optional transformers, a
stride-2 ``downsamplers``), the mid block and up blocks (skip features concatenated before each
res block, ``upsamplers`` last). Each down block returns its output and the features it hands to
the skip connections."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .attention import Transformer2DModel
from .blocks import Downsample2D, ResnetBlock2D, Upsample2D


@dataclass(frozen=True)
class Level:
    """What one level of the UNet is built from."""

    layers: int  # res blocks
    temb: int  # timestep embedding width
    groups: int
    eps: float
    heads: int = 1
    depth: int = 1  # transformer blocks per transformer
    context_dim: int = 0
    linear_projection: bool = False

    def transformer(self, channels: int) -> Transformer2DModel:
        return Transformer2DModel(
            self.heads,
            channels // self.heads,
            in_channels=channels,
            num_layers=self.depth,
            cross_attention_dim=self.context_dim,
            norm_num_groups=self.groups,
            use_linear_projection=self.linear_projection,
        )

    def resnet(self, in_channels: int, out_channels: int) -> ResnetBlock2D:
        return ResnetBlock2D(in_channels, out_channels, self.temb, self.groups, self.eps)


class DownBlock2D(nn.Module):
    has_cross_attention = False

    def __init__(self, level: Level, in_channels: int, out_channels: int, downsample: bool, attention: bool = False):
        super().__init__()
        if attention:  # registered first, as diffusers does (state dict order)
            self.attentions = nn.ModuleList(level.transformer(out_channels) for _ in range(level.layers))
        self.resnets = nn.ModuleList(
            level.resnet(in_channels if i == 0 else out_channels, out_channels) for i in range(level.layers)
        )
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, out_channels)]) if downsample else None

    def forward(
        self,
        h: torch.Tensor,
        temb: torch.Tensor,
        context: torch.Tensor | None = None,
        additional_residuals: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        outputs: tuple[torch.Tensor, ...] = ()
        attentions = self.attentions if self.has_cross_attention else [None] * len(self.resnets)
        for i, (resnet, attn) in enumerate(zip(self.resnets, attentions, strict=True)):
            h = resnet(h, temb)
            if attn is not None:
                h = attn(h, context)
            if i == len(self.resnets) - 1 and additional_residuals is not None:
                h = h + additional_residuals
            outputs += (h,)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            outputs += (h,)
        return h, outputs


class CrossAttnDownBlock2D(DownBlock2D):
    has_cross_attention = True

    def __init__(self, level: Level, in_channels: int, out_channels: int, downsample: bool):
        super().__init__(level, in_channels, out_channels, downsample, attention=True)


class UNetMidBlock2DCrossAttn(nn.Module):
    """res block, then (transformer, res block)."""

    has_cross_attention = True

    def __init__(self, level: Level, channels: int):
        super().__init__()
        self.attentions = nn.ModuleList([level.transformer(channels)])
        self.resnets = nn.ModuleList([level.resnet(channels, channels), level.resnet(channels, channels)])

    def forward(self, h: torch.Tensor, temb: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = self.resnets[0](h, temb)
        for attn, resnet in zip(self.attentions, self.resnets[1:], strict=True):
            h = resnet(attn(h, context), temb)
        return h


class UpBlock2D(nn.Module):
    has_cross_attention = False

    def __init__(
        self,
        level: Level,
        in_channels: int,
        prev_output_channel: int,
        out_channels: int,
        upsample: bool,
        attention: bool = False,
    ):
        super().__init__()
        if attention:  # registered first, as diffusers does (state dict order)
            self.attentions = nn.ModuleList(level.transformer(out_channels) for _ in range(level.layers))
        resnets = []
        for i in range(level.layers):
            skip = in_channels if i == level.layers - 1 else out_channels
            below = prev_output_channel if i == 0 else out_channels
            resnets.append(level.resnet(below + skip, out_channels))
        self.resnets = nn.ModuleList(resnets)
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels, out_channels)]) if upsample else None

    def forward(
        self,
        h: torch.Tensor,
        skips: tuple[torch.Tensor, ...],
        temb: torch.Tensor,
        context: torch.Tensor | None = None,
        upsample_size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        attentions = self.attentions if self.has_cross_attention else [None] * len(self.resnets)
        for resnet, attn in zip(self.resnets, attentions, strict=True):
            h = resnet(torch.cat([h, skips[-1]], dim=1), temb)
            skips = skips[:-1]
            if attn is not None:
                h = attn(h, context)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h, upsample_size)
        return h


class CrossAttnUpBlock2D(UpBlock2D):
    has_cross_attention = True

    def __init__(self, level: Level, in_channels: int, prev_output_channel: int, out_channels: int, upsample: bool):
        super().__init__(level, in_channels, prev_output_channel, out_channels, upsample, attention=True)

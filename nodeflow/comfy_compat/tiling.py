"""Tiled processing with any (also fractional) scale, as ``comfy.utils.tiled_scale`` offers it:
a function maps a tile [B,C,h,w] to [B,C',h*s,w*s]; tiles overlap and are blended with linear
ramps on the sides they share with a neighbour (image borders keep full weight)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels stepping ``tile - overlap``; the last one ends
    at the border."""
    if size <= tile:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, size - tile, stride))
    return [*starts, size - tile]


def _ramp(length: int, feather: int, before: bool, after: bool) -> torch.Tensor:
    weight = torch.ones(length, dtype=torch.float32)
    feather = min(feather, length // 2)
    if feather <= 0:
        return weight
    rising = (torch.arange(feather, dtype=torch.float32) + 1) / (feather + 1)
    if before:
        weight[:feather] = torch.minimum(weight[:feather], rising)
    if after:
        weight[length - feather :] = torch.minimum(weight[length - feather :], rising.flip(0))
    return weight


def tiled_apply(
    samples: torch.Tensor,
    function: Callable[[torch.Tensor], torch.Tensor],
    tile_x: int,
    tile_y: int,
    overlap: int,
    scale: float,
    out_channels: int,
    output_device: Any,
    on_tile: Callable[[], None] | None = None,
) -> torch.Tensor:
    """``function`` over overlapping tiles of ``samples`` [B,C,H,W], one batch item at a time,
    blended into [B,out_channels,round(H*scale),round(W*scale)] on ``output_device``."""
    batch, _, height, width = samples.shape
    out_h, out_w = round(height * scale), round(width * scale)
    output = torch.empty((batch, out_channels, out_h, out_w), device=output_device)
    ys, xs = tile_starts(height, tile_y, overlap), tile_starts(width, tile_x, overlap)
    feather = max(0, round(overlap * scale))
    for b in range(batch):
        total = torch.zeros((1, out_channels, out_h, out_w), device=output_device)
        weight = torch.zeros((1, 1, out_h, out_w), device=output_device)
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                piece = function(samples[b : b + 1, :, y : y + tile_y, x : x + tile_x]).to(output_device, torch.float32)
                oy, ox = round(y * scale), round(x * scale)
                ph, pw = min(piece.shape[2], out_h - oy), min(piece.shape[3], out_w - ox)
                mask = (
                    _ramp(ph, feather, iy > 0, iy < len(ys) - 1)[:, None]
                    * _ramp(pw, feather, ix > 0, ix < len(xs) - 1)[None, :]
                ).to(output_device)
                total[:, :, oy : oy + ph, ox : ox + pw] += piece[:, :, :ph, :pw] * mask
                weight[:, :, oy : oy + ph, ox : ox + pw] += mask
                if on_tile is not None:
                    on_tile()
        output[b : b + 1] = total / weight.clamp_min(1e-8)
    return output


def tile_count(width: int, height: int, tile_x: int, tile_y: int, overlap: int) -> int:
    """How many tiles ``tiled_apply`` runs per batch item."""
    return len(tile_starts(height, tile_y, overlap)) * len(tile_starts(width, tile_x, overlap))

"""Tiled encode / decode of NodeFlow's KL autoencoder (``nets/vae.py``), with diffusers'
AutoencoderKL numbers: square tiles every ``size * (1 - tile_overlap_factor)`` input pixels, each run
on its own, then blended into its upper and left neighbours (which are already blended) over the
overlap with linear weights, and cropped to the stride."""

from __future__ import annotations

from collections.abc import Callable

import torch


def blend(before: torch.Tensor, tile: torch.Tensor, extent: int, dim: int) -> torch.Tensor:
    """Fade ``tile``'s first ``extent`` rows (``dim`` 2) or columns (``dim`` 3) in from ``before``'s
    last ones, in place; one row at a time with Python-float weights, as diffusers' blend_v / blend_h."""
    extent = min(before.shape[dim], tile.shape[dim], extent)
    end = before.shape[dim]
    for step in range(extent):
        faded = before.select(dim, end - extent + step) * (1 - step / extent)
        tile.select(dim, step).copy_(faded + tile.select(dim, step) * (step / extent))
    return tile


def _tiled(x: torch.Tensor, size: int, stride: int, extent: int, keep: int, run: Callable) -> torch.Tensor:
    """``run`` on each ``size`` tile of ``x`` (every ``stride``), blended over ``extent`` output rows
    and columns, each cropped to ``keep``, reassembled."""
    grid = [
        [run(x[:, :, top : top + size, left : left + size]) for left in range(0, x.shape[3], stride)]
        for top in range(0, x.shape[2], stride)
    ]
    rows = []
    for i, row in enumerate(grid):
        for j, tile in enumerate(row):
            if i > 0:
                blend(grid[i - 1][j], tile, extent, dim=2)
            if j > 0:
                blend(row[j - 1], tile, extent, dim=3)
        rows.append(torch.cat([tile[:, :, :keep, :keep] for tile in row], dim=3))
    return torch.cat(rows, dim=2)


def tiled_encode(net, x: torch.Tensor) -> torch.Tensor:
    """Moments (encoder, then quant_conv) of pixels ``x`` in tiles of ``net.tile_sample_min_size``."""
    size, latent, overlap = net.tile_sample_min_size, net.tile_latent_min_size, net.tile_overlap_factor
    extent = int(latent * overlap)

    def run(tile: torch.Tensor) -> torch.Tensor:
        moments = net.encoder(tile)
        return net.quant_conv(moments) if net.config.use_quant_conv else moments

    return _tiled(x, size, int(size * (1 - overlap)), extent, latent - extent, run)


def tiled_decode(net, z: torch.Tensor) -> torch.Tensor:
    """Pixels (post_quant_conv, then decoder) of latents ``z`` in tiles of ``net.tile_latent_min_size``."""
    size, pixels, overlap = net.tile_latent_min_size, net.tile_sample_min_size, net.tile_overlap_factor
    extent = int(pixels * overlap)

    def run(tile: torch.Tensor) -> torch.Tensor:
        if net.config.use_post_quant_conv:
            tile = net.post_quant_conv(tile)
        return net.decoder(tile)

    return _tiled(z, size, int(size * (1 - overlap)), extent, pixels - extent, run)

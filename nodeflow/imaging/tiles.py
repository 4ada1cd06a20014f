"""Run an image-to-image network on overlapping tiles and blend them without seams.

Neighbouring tiles share ``overlap`` input pixels. Inside that band each tile ignores the outer
quarter next to its cut edge (there the network saw zero padding instead of the real neighbour:
context only), and the middle half is a linear cross-fade. Per axis the two weights add up to
exactly 1 where tiles share exactly ``overlap`` pixels; the output is nevertheless normalised by
the accumulated weight, so wider overlaps (tiles are spread evenly, so some share a pixel more)
and corners where four tiles meet blend correctly too. A network whose receptive radius is at most ``overlap // 4``
input pixels gives the same result tiled as untiled (up to float rounding).

Pure torch: ``fn`` maps a tile [B,C,h,w] to [B,C',h*scale,w*scale]; it may run anywhere
(device, dtype) as long as it returns a tensor that can be added to a float32 tensor on the
image's device.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch
from torch import Tensor

TileFn = Callable[[Tensor], Tensor]
Progress = Callable[[int, int], None]
MIN_TILE = 64

log = logging.getLogger(__name__)


class TileOutOfMemory(RuntimeError):
    """Even the smallest tile did not fit in memory."""


def tile_layout(size: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """Tile length and start offsets along one axis of ``size`` pixels: as few tiles of at most
    ``tile`` pixels as cover the axis with at least ``overlap`` shared pixels, shrunk to the
    same length and spread evenly, so all of them stay inside the image and no work is wasted
    on a last tile pushed back over its neighbour."""
    if size <= tile:
        return size, [0]
    stride = max(1, tile - overlap)
    count = math.ceil((size - overlap) / stride)
    length = min(tile, math.ceil((size + (count - 1) * overlap) / count))
    return length, [(i * (size - length)) // (count - 1) for i in range(count)]


def feather(length: int, scale: int, overlap: int, before: bool, after: bool) -> Tensor:
    """1-D blend weights of one tile of ``length`` input pixels, at output resolution.
    ``before`` / ``after``: whether a neighbouring tile lies on that side (image borders get
    weight 1). The outer ``overlap // 4`` pixels of a shared side get 0, the next
    ``overlap - 2 * (overlap // 4)`` ramp linearly up to 1."""
    n = length * scale
    weight = torch.ones(n, dtype=torch.float32)
    if overlap <= 0 or not (before or after):
        return weight
    guard = (overlap // 4) * scale
    ramp = (overlap - 2 * (overlap // 4)) * scale
    centre = torch.arange(n, dtype=torch.float32) + 0.5  # distance of each pixel centre from the first edge
    if before:
        weight = torch.minimum(weight, ((centre - guard) / ramp).clamp(0, 1))
    if after:
        weight = torch.minimum(weight, ((n - centre - guard) / ramp).clamp(0, 1))
    return weight


def upscale_tiled(
    fn: TileFn, image: Tensor, scale: int, tile: int, overlap: int, progress: Progress | None = None
) -> Tensor:
    """Apply ``fn`` to overlapping tiles of ``image`` [B,C,H,W] and blend the results into one
    float32 tensor [B,C',H*scale,W*scale] on ``image.device``. ``progress(done, total)`` is called
    after every tile (it may raise to stop, e.g. on interrupt)."""
    if image.dim() != 4:
        raise ValueError(f"expected an image tensor [B,C,H,W], got shape {list(image.shape)}")
    if tile < 1 or scale < 1:
        raise ValueError(f"tile ({tile}) and scale ({scale}) must be positive")
    batch, _, height, width = image.shape
    overlap = max(0, min(overlap, tile // 2))
    tile_h, ys = tile_layout(height, tile, overlap)
    tile_w, xs = tile_layout(width, tile, overlap)
    total = len(ys) * len(xs)
    out: Tensor | None = None
    weight = torch.zeros((1, 1, height * scale, width * scale), dtype=torch.float32, device=image.device)
    done = 0
    for iy, y in enumerate(ys):
        wy = feather(tile_h, scale, overlap, iy > 0, iy < len(ys) - 1)
        for ix, x in enumerate(xs):
            wx = feather(tile_w, scale, overlap, ix > 0, ix < len(xs) - 1)
            result = fn(image[:, :, y : y + tile_h, x : x + tile_w])
            expected = (batch, tile_h * scale, tile_w * scale)
            if result.dim() != 4 or (result.shape[0], result.shape[2], result.shape[3]) != expected:
                raise ValueError(
                    f"the model returned a tile of shape {list(result.shape)} for an input tile of "
                    f"{tile_w}x{tile_h}; expected {scale}x that size ({tile_w * scale}x{tile_h * scale})"
                )
            if out is None:
                out = torch.zeros(
                    (batch, result.shape[1], height * scale, width * scale), dtype=torch.float32, device=image.device
                )
            w2d = (wy[:, None] * wx[None, :]).to(image.device)
            oy, ox = y * scale, x * scale
            out[:, :, oy : oy + tile_h * scale, ox : ox + tile_w * scale] += result.to(out.device, torch.float32) * w2d
            weight[:, :, oy : oy + tile_h * scale, ox : ox + tile_w * scale] += w2d
            del result
            done += 1
            if progress is not None:
                progress(done, total)
    assert out is not None
    return out.div_(weight)


def longest_tile(image: Tensor, tile: int, overlap: int) -> int:
    """The longest tile side ``upscale_tiled`` uses for ``image`` with these settings."""
    overlap = max(0, min(overlap, tile // 2))
    return max(tile_layout(image.shape[-2], tile, overlap)[0], tile_layout(image.shape[-1], tile, overlap)[0])


def is_out_of_memory(exc: BaseException) -> bool:
    """torch.OutOfMemoryError, or a RuntimeError that says "out of memory" (other backends)."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_cached_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.empty_cache()


def upscale_auto(
    fn: TileFn,
    image: Tensor,
    scale: int,
    tile: int = 512,
    overlap: int = 32,
    progress: Progress | None = None,
    min_tile: int = MIN_TILE,
) -> Tensor:
    """``upscale_tiled`` with ``tile``; when a tile runs out of memory, retry with half the
    longest tile side actually used, down to ``min_tile``; then raise TileOutOfMemory."""
    while True:
        failure: BaseException | None = None
        try:
            return upscale_tiled(fn, image, scale, tile, overlap, progress)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            failure = exc
        used = longest_tile(image, tile, overlap)
        if used <= min_tile:
            raise TileOutOfMemory(
                f"out of memory even with {used}x{used} pixel tiles ({type(failure).__name__}: "
                f"{str(failure).splitlines()[0][:160] if str(failure) else ''}); free memory (unload other "
                f"models, close other programs), use a smaller image or a smaller upscale model"
            ) from failure
        failure = None  # drop the traceback (and the tensors its frames hold) before retrying
        _free_cached_memory()
        tile = max(min_tile, used // 2)
        log.warning("upscale: out of memory with %d px tiles, retrying with at most %d px", used, tile)

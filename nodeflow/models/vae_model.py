"""The VAE socket's object: IMAGE [B,H,W,3] 0..1 <-> latents [B,4,H/8,W/8], whole or in tiles,
falling back to tiles on out-of-memory; fp32 VAE fallback when half precision gives NaN. Latents
are the encoder's output as it is (ComfyUI's LATENT convention): the model family's latent format
scales them on the way into the diffusion model, so a VAE file needs no scale of its own. It is
also ComfyUI's VAE for custom-node packs (``comfy_facade.vae``); the tiled methods take ComfyUI's
arguments (encode tiles in pixels, decode tiles in latent pixels)."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass

import torch

from .comfy_facade.vae import VaeFacade

log = logging.getLogger(__name__)


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _tiles_on_oom(what: str, whole, tiled) -> torch.Tensor:
    """Run ``whole()``; when it runs out of memory, run ``tiled()`` instead."""
    try:
        return whole()
    except (torch.OutOfMemoryError, RuntimeError) as exc:
        if not _is_oom(exc):
            raise
        log.warning("VAE %s ran out of memory; retrying in tiles", what)
        return tiled()


@dataclass
class VAE(VaeFacade):
    module: torch.nn.Module  # NodeFlow's KLAutoencoder (nets/vae.py), or diffusers' AutoencoderKL for other configs
    manager: object = None
    source: str = ""

    @property
    def downscale(self) -> int:
        return 2 ** (len(self.module.config.block_out_channels) - 1)

    @property
    def latent_channels(self) -> int:
        return int(self.module.config.latent_channels)

    def _placed(self):
        return (
            self.manager.use(self.module) if self.manager is not None else contextlib.nullcontext(torch.device("cpu"))
        )

    def _run(self, fn, x: torch.Tensor) -> torch.Tensor:
        with self._placed() as device:
            dtype = next(self.module.parameters()).dtype
            out = fn(x.to(device=device, dtype=dtype))
            if dtype != torch.float32 and torch.isnan(out).any():  # fp16 VAEs overflow: redo in fp32
                log.warning("VAE gave NaN in %s; running it in fp32", dtype)
                self.module.float()
                out = fn(x.to(device=device, dtype=torch.float32))
        return out.float().cpu()

    # whole-image ---------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        return _tiles_on_oom("encode", lambda: self._encode(pixels, tiled=False), lambda: self.encode_tiled(pixels))

    @torch.no_grad()
    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return _tiles_on_oom("decode", lambda: self._decode(latent, tiled=False), lambda: self.decode_tiled(latent))

    # tiled -----------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_tiled(
        self,
        pixels: torch.Tensor,
        tile_x: int | None = None,
        tile_y: int | None = None,
        overlap: int | None = None,
        tile_t=None,
        overlap_t=None,
    ) -> torch.Tensor:
        """Encode in square tiles of ``tile_x`` pixels (default 512) overlapping by ``overlap`` (64)."""
        self._set_tiles(tile_x or tile_y or 512, 64 if overlap is None else overlap)
        return self._encode(pixels, tiled=True)

    @torch.no_grad()
    def decode_tiled(
        self,
        latent: torch.Tensor,
        tile_x: int | None = None,
        tile_y: int | None = None,
        overlap: int | None = None,
        tile_t=None,
        overlap_t=None,
    ) -> torch.Tensor:
        """Decode in square tiles of ``tile_x`` latent pixels (default 64) overlapping by ``overlap`` (16)."""
        ratio = self.downscale
        self._set_tiles((tile_x or tile_y or 64) * ratio, (16 if overlap is None else overlap) * ratio)
        return self._decode(latent, tiled=True)

    def _set_tiles(self, tile: int, overlap: int) -> None:
        if tile <= overlap:
            raise ValueError(f"tile_size ({tile}) must be larger than overlap ({overlap})")
        self.module.tile_sample_min_size = tile
        self.module.tile_latent_min_size = tile // self.downscale
        self.module.tile_overlap_factor = overlap / tile

    def _encode(self, pixels: torch.Tensor, tiled: bool) -> torch.Tensor:
        if pixels.dim() != 4 or pixels.shape[-1] < 3:
            raise ValueError(f"expected an IMAGE [batch, height, width, 3], got shape {list(pixels.shape)}")
        x = pixels[..., :3].permute(0, 3, 1, 2) * 2 - 1
        module = self.module

        def fn(t: torch.Tensor) -> torch.Tensor:
            if tiled:  # moments = mean and log-variance stacked; the mode is the mean
                return module._tiled_encode(t).chunk(2, dim=1)[0]
            return module.encode(t).latent_dist.mode()

        return self._run(fn, x)

    def _decode(self, latent: torch.Tensor, tiled: bool) -> torch.Tensor:
        if latent.dim() != 4 or latent.shape[1] != self.latent_channels:
            raise ValueError(
                f"this VAE decodes latents with {self.latent_channels} channels, got shape {list(latent.shape)}"
            )
        module = self.module

        def fn(z: torch.Tensor) -> torch.Tensor:
            if tiled:
                return module.tiled_decode(z, return_dict=False)[0]
            return module.decode(z, return_dict=False)[0]

        out = self._run(fn, latent)
        return ((out + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).contiguous()

    def memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.module.parameters())


PREVIEW_DECODE_MAX_PARAMS = 5_000_000  # e.g. the demo VAE (1.25 M): decoding a preview costs a few ms


def preview_decoder(vae: VAE) -> VAE | None:
    """``vae`` when it is small enough to decode live previews itself. A linear latent->RGB
    projection is a fair preview for the released SD VAEs but not for every VAE (the demo one's
    latents are far from linear in colour), and a tiny VAE decodes faster than a UNet step."""
    return vae if sum(p.numel() for p in vae.module.parameters()) <= PREVIEW_DECODE_MAX_PARAMS else None


class LazyRGBFit:
    """``fit_latent_rgb(vae)`` computed on the first call (the first live preview), once for every
    clone sharing it: a checkpoint load does not pay for encoding colours nobody may look at."""

    def __init__(self, vae: VAE) -> None:
        self._vae, self._rows = vae, None
        self._lock = threading.Lock()

    def __call__(self) -> list[list[float]]:
        with self._lock:
            if self._rows is None:
                self._rows = fit_latent_rgb(self._vae)
            return self._rows


@torch.no_grad()
def fit_latent_rgb(vae: VAE) -> list[list[float]]:
    """A 4x3 (plus bias row) latent->RGB projection for live previews, fitted by least squares on
    a few solid colours encoded with this VAE (for big VAEs; tiny ones decode their own previews)."""
    colours = torch.tensor([[r, g, b] for r in (0.05, 0.5, 0.95) for g in (0.05, 0.5, 0.95) for b in (0.05, 0.95)])
    size = vae.downscale * 2
    pixels = colours[:, None, None, :].expand(-1, size, size, -1).contiguous()
    latents = vae.encode(pixels).mean(dim=(2, 3))  # [N, C]
    design = torch.cat([latents, torch.ones(len(latents), 1)], dim=1)
    solution = torch.linalg.lstsq(design, colours * 2 - 1).solution  # [C+1, 3] in -1..1 units
    return solution.tolist()

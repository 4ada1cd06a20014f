"""How a model family's latents relate to what its VAE produces (ComfyUI's LATENT convention).

A LATENT socket holds the VAE encoder's output as it is (unscaled). The diffusion model works on
``(latent - shift) * scale`` and hands back ``latent / scale + shift``: ``process_in`` and
``process_out`` are the only two places that conversion happens."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LatentFormat:
    channels: int = 4
    scale_factor: float = 1.0
    shift_factor: float = 0.0
    # latent -> RGB preview projection on unscaled latents: one row of 3 per channel, then an
    # optional bias row; None means "fit one from the VAE at load time"
    rgb_factors: tuple | None = None
    downscale: int = 8

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        """VAE latent -> the network's latent space."""
        return (latent - self.shift_factor) * self.scale_factor

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        """The network's latent space -> VAE latent."""
        return latent / self.scale_factor + self.shift_factor

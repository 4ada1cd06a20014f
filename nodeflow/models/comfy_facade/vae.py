"""ComfyUI's VAE interface over NodeFlow's VAE: ``first_stage_model``, ``downscale_ratio``,
``upscale_ratio``, ``latent_channels``, ``spacial_compression_encode/decode()``, ``process_input`` /
``process_output``, ``vae_encode_crop_pixels``, memory estimates and ``get_sd`` (released names).
``encode``/``decode``/``encode_tiled``/``decode_tiled`` are the VAE's own (ComfyUI's signatures)."""

from __future__ import annotations

import torch


class VaeFacade:
    latent_dim = 2
    output_channels = 3
    disable_offload = False

    @property
    def first_stage_model(self) -> torch.nn.Module:
        return self.module

    @property
    def downscale_ratio(self) -> int:
        return self.downscale

    @property
    def upscale_ratio(self) -> int:
        return self.downscale

    @property
    def device(self) -> torch.device:
        return self.manager.device if self.manager is not None else torch.device("cpu")

    @property
    def vae_dtype(self) -> torch.dtype:
        return next(self.module.parameters()).dtype

    def spacial_compression_encode(self) -> int:
        return self.downscale

    def spacial_compression_decode(self) -> int:
        return self.downscale

    def temporal_compression_decode(self) -> None:
        return None

    def throw_exception_if_invalid(self) -> None:
        """NodeFlow's VAEs are complete once loaded."""

    @staticmethod
    def process_input(image: torch.Tensor) -> torch.Tensor:
        return image * 2.0 - 1.0

    @staticmethod
    def process_output(image: torch.Tensor) -> torch.Tensor:
        return torch.clamp((image + 1.0) / 2.0, min=0.0, max=1.0)

    def vae_encode_crop_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """``pixels`` [B,H,W,C] centre-cropped to a multiple of the downscale ratio."""
        ratio = self.downscale
        h, w = (pixels.shape[1] // ratio) * ratio, (pixels.shape[2] // ratio) * ratio
        if (h, w) == tuple(pixels.shape[1:3]):
            return pixels
        top, left = (pixels.shape[1] % ratio) // 2, (pixels.shape[2] % ratio) // 2
        return pixels[:, top : top + h, left : left + w, :]

    def memory_used_encode(self, shape, dtype: torch.dtype) -> float:
        return 1767 * shape[1] * shape[2] * torch.finfo(dtype).bits / 8

    def memory_used_decode(self, shape, dtype: torch.dtype) -> float:
        return 2178 * shape[2] * shape[3] * self.downscale**2 * torch.finfo(dtype).bits / 8

    def get_sd(self) -> dict[str, torch.Tensor]:
        """The weights under their released (original-layout) names."""
        from ..convert_vae import vae_from_diffusers

        return vae_from_diffusers(self.module.state_dict(), dict(self.module.config))

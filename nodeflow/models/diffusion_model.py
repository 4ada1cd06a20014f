"""The MODEL socket's object: a denoising UNet with its family, prediction type, noise schedule
and this clone's weight patches. ``apply`` runs the raw network on the compute device."""
from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field, replace

import torch

from .latent_format import LatentFormat
from .patching import PatchedModule

# fitted per VAE at load time when a VAE is at hand (see vae_model.fit_latent_rgb); this is the
# fallback for a lone UNet: a plain projection of the first three latent channels
NEUTRAL_RGB = [[0.35, 0.0, 0.0], [0.0, 0.35, 0.0], [0.0, 0.0, 0.35], [0.0, 0.0, 0.0]]


@dataclass
class DiffusionModel:
    unet: PatchedModule  # wraps a diffusers UNet2DConditionModel
    family: str  # "sd1" | "sd2" | "sdxl" | "sdxl_refiner"
    prediction: str = "eps"  # "eps" | "v"
    in_channels: int = 4
    latent_channels: int = 4
    latent_format: LatentFormat = field(default_factory=LatentFormat)
    latent_rgb_factors: list = field(default_factory=lambda: NEUTRAL_RGB)
    preview_vae: object = None  # a VAE small enough to decode every step's preview (else the projection)
    manager: object = None
    source: str = ""

    def clone(self) -> "DiffusionModel":
        return replace(self, unet=self.unet.clone())

    def process_latent_in(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_in(latent)

    def process_latent_out(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_out(latent)

    @property
    def schedule(self):
        """The discrete noise schedule every SD1/SD2/SDXL model was trained with."""
        return _sd_schedule()

    @property
    def device(self) -> torch.device:
        return self.manager.device if self.manager is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        return next(self.unet.module.parameters()).dtype

    def placed(self):
        """Context manager: weights patched for this clone and on the compute device."""
        self.unet.activate()
        if self.manager is None:
            return contextlib.nullcontext(torch.device("cpu"))
        return self.manager.use(self.unet.module)

    def adm(self, options: dict, batch: int, height: int, width: int) -> dict | None:
        """SDXL's extra inputs: pooled text embedding and the size/crop conditioning vector."""
        if self.family not in ("sdxl", "sdxl_refiner"):
            return None
        pooled = options.get("pooled_output")
        if pooled is None:
            raise ValueError("SDXL conditioning has no pooled output: encode the prompt with this model's CLIP")
        h, w = options.get("height", height), options.get("width", width)
        crop_h, crop_w = options.get("crop_h", 0), options.get("crop_w", 0)
        if self.family == "sdxl":
            values = [h, w, crop_h, crop_w, options.get("target_height", h), options.get("target_width", w)]
        else:
            values = [h, w, crop_h, crop_w, options.get("aesthetic_score", 6.0)]
        time_ids = torch.tensor([values], dtype=torch.float32).repeat(batch, 1)
        return {"text_embeds": pooled.float().repeat(math.ceil(batch / pooled.shape[0]), 1)[:batch],
                "time_ids": time_ids}

    def apply(self, x: torch.Tensor, timestep: torch.Tensor, context: torch.Tensor,
              y: dict | None = None, concat: torch.Tensor | None = None) -> torch.Tensor:
        """Raw network output (eps or v) for ``x`` already scaled by 1/sqrt(sigma²+1)."""
        if concat is not None:
            x = torch.cat([x, concat.to(x)], dim=1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"this model takes {self.in_channels} input channels, got {x.shape[1]}"
                             + (": an inpainting model needs InpaintModelConditioning" if self.in_channels == 9 else ""))
        with self.placed() as device:
            dtype = self.dtype
            added = None
            if y is not None:
                added = {k: v.to(device=device, dtype=dtype) for k, v in y.items()}
            out = self.unet.module(x.to(device=device, dtype=dtype), timestep.to(device=device, dtype=torch.float32),
                                   encoder_hidden_states=context.to(device=device, dtype=dtype),
                                   added_cond_kwargs=added, return_dict=False)[0]
        return out.to(device=x.device, dtype=torch.float32)

    def memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.unet.module.parameters())


@functools.lru_cache(maxsize=1)
def _sd_schedule():
    from nodeflow.sampling.schedules import DiscreteSchedule

    return DiscreteSchedule.sd()

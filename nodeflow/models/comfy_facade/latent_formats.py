"""ComfyUI's latent format classes (``model.model.latent_format``): scale, shift, channels and a
preview projection. A NodeFlow model's format is its family's ``LatentFormat``; ``format_for``
returns an instance of the matching ComfyUI class (SD15, SDXL, ...) whose ``process_in`` /
``process_out`` are the family's own, so a pack converting latents gets NodeFlow's numbers."""

from __future__ import annotations

import functools

import torch

from ..latent_format import LatentFormat as NodeFlowLatentFormat


class LatentFormat:
    scale_factor = 1.0
    shift_factor = 0.0
    latent_channels = 4
    latent_dimensions = 2
    latent_rgb_factors = None
    latent_rgb_factors_bias = None
    taesd_decoder_name = None

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        return (latent - self.shift_factor) * self.scale_factor

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        return latent / self.scale_factor + self.shift_factor


class SD15(LatentFormat):
    scale_factor = 0.18215
    taesd_decoder_name = "taesd_decoder"


class SDXL(LatentFormat):
    scale_factor = 0.13025
    taesd_decoder_name = "taesdxl_decoder"


class SDXL_Playground_2_5(LatentFormat):
    scale_factor = 0.5


class SD3(LatentFormat):
    latent_channels = 16
    scale_factor = 1.5305
    shift_factor = 0.0609
    taesd_decoder_name = "taesd3_decoder"


class Flux(SD3):
    scale_factor = 0.3611
    shift_factor = 0.1159
    taesd_decoder_name = "taef1_decoder"


class Wan21(LatentFormat):
    """Wan 2.1 video latents (16 channels, 3-D); NodeFlow has no Wan models, so no conversion."""

    latent_channels = 16
    latent_dimensions = 3

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("Wan 2.1 latents are not supported by NodeFlow")

    process_out = process_in


KNOWN = (SD15, SDXL, SD3, Flux)


class _Bound(LatentFormat):
    """A ComfyUI view of one NodeFlow LatentFormat (mixed into the matching class)."""

    def __init__(self, fmt: NodeFlowLatentFormat, rgb: list | None) -> None:
        self._format = fmt
        self.scale_factor, self.shift_factor = fmt.scale_factor, fmt.shift_factor
        self.latent_channels = fmt.channels
        if rgb:  # NodeFlow's projection reads LATENTs; ComfyUI's previews read the sampler's space
            rows = [list(r) for r in rgb]
            self.latent_rgb_factors = [[v / fmt.scale_factor for v in r] for r in rows[: fmt.channels]]
            bias = rows[fmt.channels] if len(rows) > fmt.channels else [0.0, 0.0, 0.0]
            self.latent_rgb_factors_bias = [
                b + fmt.shift_factor * sum(r[i] for r in rows[: fmt.channels]) for i, b in enumerate(bias)
            ]

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        return self._format.process_in(latent)

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        return self._format.process_out(latent)


def format_for(fmt: NodeFlowLatentFormat, rgb: list | None = None) -> LatentFormat:
    """An instance of the ComfyUI class with ``fmt``'s numbers (a plain LatentFormat when none has)."""
    base = next(
        (
            c
            for c in KNOWN
            if (c.latent_channels, c.scale_factor, c.shift_factor) == (fmt.channels, fmt.scale_factor, fmt.shift_factor)
        ),
        LatentFormat,
    )
    return _bound_class(base)(fmt, rgb if rgb is not None else fmt.rgb_factors)


@functools.cache
def _bound_class(base: type) -> type:
    return type(base.__name__, (_Bound, base), {"__module__": base.__module__})

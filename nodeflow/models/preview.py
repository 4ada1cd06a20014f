"""Live sampler previews: a LATENT (unscaled, ComfyUI's convention) -> a small RGB picture, decoded
by the model's VAE when that is tiny, else through the latent->RGB projection fitted to the VAE at
load time, else the family's own factors (``LatentFormat.rgb_factors``), else a plain projection of
the first three channels of the model's latent space. A lone UNet (no VAE of its own) borrows what
the last checkpoint loaded with a VAE in the same latent space had (``remember_latent_space``): the
outpaint demo's inpainting UNet previewed SD1's generic colours, a magenta smear."""

from __future__ import annotations

import weakref

import numpy as np
import torch
from PIL import Image

# a lone UNet (no VAE at hand): the first three channels of the model's own latent space as RGB
NEUTRAL_RGB = [[0.35, 0.0, 0.0], [0.0, 0.35, 0.0], [0.0, 0.0, 0.35], [0.0, 0.0, 0.0]]


# latent space (channels, scale, shift, downscale) -> (fitted factors, weak reference to a small VAE or None)
_SPACES: dict[tuple, tuple] = {}


def _space(latent_format) -> tuple:
    return (latent_format.channels, latent_format.scale_factor, latent_format.shift_factor, latent_format.downscale)


def remember_latent_space(model) -> None:
    """``model`` came with its VAE: lone UNets of its latent space preview the same way."""
    factors = getattr(model, "rgb_fit", None)  # rows, or a lazy fit resolved when a preview needs it
    vae = getattr(model, "preview_vae", None)
    if factors is not None or vae is not None:
        _SPACES[_space(model.latent_format)] = (factors, weakref.ref(vae) if vae is not None else None)


def _projection(factors: list, latent: torch.Tensor) -> Image.Image:
    table = torch.tensor(factors, dtype=torch.float32)
    channels = latent.shape[0]
    weights = table[:channels]
    bias = table[channels] if table.shape[0] > channels else 0
    rgb = torch.einsum("chw,cr->hwr", latent, weights) + bias
    pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    return Image.fromarray(np.ascontiguousarray(pixels)).resize((latent.shape[2] * 4, latent.shape[1] * 4))


def latent_preview(model, latent: torch.Tensor) -> Image.Image:
    """The first item of ``latent`` [B, C, h, w] as a picture."""
    vae = getattr(model, "preview_vae", None)
    fitted = getattr(model, "latent_rgb_factors", None)
    if vae is None and fitted is None and _space(model.latent_format) in _SPACES:
        fitted, vae_ref = _SPACES[_space(model.latent_format)]
        fitted = fitted() if callable(fitted) else fitted
        vae = vae_ref() if vae_ref is not None else None
    if vae is not None:
        image = vae.decode(latent[:1].float())[0]
        picture = Image.fromarray((image.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy())
        picture.thumbnail((256, 256))
        return picture
    first = latent[0].float().cpu()
    factors = fitted or model.latent_format.rgb_factors
    if factors is not None:
        return _projection(factors, first)
    return _projection(NEUTRAL_RGB, model.process_latent_in(first)[:3])

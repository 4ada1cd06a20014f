"""Sampling with an explicit noise tensor, a sampler object and sigmas: what the GUIDER objects of
comfy_extras.nodes_custom_sampler run (ComfyUI's ``guider.sample``), on NodeFlow's sampler,
guidance and noise-mask code. Tensors in and out are LATENTs (unscaled)."""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from nodeflow.sampling.guidance import Guider, with_noise_mask
from nodeflow.sampling.run import fix_channels, noise_mask_for
from nodeflow.sampling.samplers import SamplerExtras, get_sampler

# ComfyUI's sampler callback: (step, x0 estimate, x, total steps)
ComfyCallback = Callable[[int, torch.Tensor, torch.Tensor, int], None]


def sampler_function(sampler: Any) -> Callable:
    """The NodeFlow sampler function of a SAMPLER value: a sampling_nodes.SamplerChoice (``.fn``),
    a sampler name, or a function ``(denoise, x, sigmas, extra=...)``."""
    if isinstance(sampler, str):
        return get_sampler(sampler)
    fn = getattr(sampler, "fn", None)
    if callable(fn):
        return fn
    if callable(sampler):
        return sampler
    raise TypeError(f"sampler: expected a SAMPLER (from KSamplerSelect), got {type(sampler).__name__}")


def sample_latent(model: Any, positive: list, negative: list | None, cfg: float, noise: torch.Tensor,
                  latent: torch.Tensor, sampler: Any, sigmas: Any, noise_mask: torch.Tensor | None = None,
                  callback: ComfyCallback | None = None, seed: int | None = None) -> torch.Tensor:
    """Denoise ``latent`` + ``noise`` along ``sigmas`` with CFG between ``positive`` and ``negative``
    (negative None or cfg 1: positive only). Returns the resulting LATENT samples."""
    sigmas = torch.as_tensor(sigmas, dtype=torch.float32).reshape(-1)
    original = fix_channels(model, latent.float())
    if sigmas.numel() < 2:
        return original
    start = model.process_latent_in(original)
    noise = noise.float().to(start.device)
    s0 = float(sigmas[0])
    sigma_max = model.schedule.sigma_max
    full = math.isclose(s0, sigma_max, rel_tol=1e-5) or s0 > sigma_max
    x = start + noise * (math.sqrt(1.0 + s0 * s0) if full else s0)
    fn = sampler_function(sampler)
    guider = Guider(model, positive, negative or [], cfg, tuple(start.shape),
                    keep_uncond=getattr(fn, "needs_uncond", False))
    denoise: Any = guider
    mask = None
    if noise_mask is not None:
        mask = noise_mask_for(noise_mask, start)
        denoise = with_noise_mask(guider, start, noise, mask)

    def step(i: int, x_now: torch.Tensor, denoised: torch.Tensor, total: int) -> None:
        if callback is not None:
            callback(i, denoised, x_now, total)
    extra = SamplerExtras(seed=int(seed or 0), callback=step, schedule=model.schedule)
    samples = model.process_latent_out(fn(denoise, x, sigmas, extra=extra))
    if mask is not None:
        samples = samples * mask + original * (1 - mask)
    return samples

"""Sampling with an explicit noise tensor, a sampler object and sigmas: what the GUIDER objects of
comfy_extras.nodes_custom_sampler run (ComfyUI's ``guider.sample``), on NodeFlow's sampler,
guidance and noise-mask code. Tensors in and out are LATENTs (unscaled)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nodeflow.sampling.run import SampleRequest, sample_with_sigmas
from nodeflow.sampling.samplers import get_sampler

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


def sample_latent(
    model: Any,
    positive: list,
    negative: list | None,
    cfg: float,
    noise: torch.Tensor,
    latent: torch.Tensor,
    sampler: Any,
    sigmas: Any,
    noise_mask: torch.Tensor | None = None,
    callback: ComfyCallback | None = None,
    seed: int | None = None,
) -> torch.Tensor:
    """Denoise ``latent`` + ``noise`` along ``sigmas`` with CFG between ``positive`` and ``negative``
    (negative None or cfg 1: positive only). Returns the resulting LATENT samples. The run itself is
    NodeFlow's (``sampling.run.sample_with_sigmas``) with the caller's noise."""
    sigmas = torch.as_tensor(sigmas, dtype=torch.float32).reshape(-1)
    given = {"samples": latent.float()}
    if noise_mask is not None:
        given["noise_mask"] = noise_mask
    req = SampleRequest(model, positive, negative or [], given, seed=int(seed or 0), cfg=cfg, noise=noise.float())

    def step(i: int, x_now: torch.Tensor, denoised: torch.Tensor, total: int) -> None:
        if callback is not None:
            callback(i, denoised, x_now, total)

    return sample_with_sigmas(req, sigmas, step, sampler_fn=sampler_function(sampler))["samples"]

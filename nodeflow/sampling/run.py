"""Sampling as the KSampler family of nodes does it: seeded noise, schedule (with denoise and
start/end steps), start point, noise mask, guidance, sampler, per-step callback."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .flow_schedule import is_flow, noise_latent, unnoise_final
from .guidance import Guider, with_noise_mask
from .samplers import SamplerExtras, get_sampler
from .schedules import calculate_sigmas, split_for_denoise

StepCallback = Callable[[int, torch.Tensor, torch.Tensor, int], None]


def prepare_noise(latent: torch.Tensor, seed: int, batch_index: list[int] | None = None) -> torch.Tensor:
    """One ``torch.randn`` over the whole batch from ``torch.manual_seed(seed)`` on the CPU, so
    a seed gives the same noise on any device; with ``batch_index`` (a latent taken out of a
    batch) item i gets the noise it had in the full batch."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
    if not batch_index:
        return torch.randn(latent.shape, dtype=torch.float32, generator=generator, device="cpu")
    per_item = {}
    for i in range(max(batch_index) + 1):
        n = torch.randn((1, *latent.shape[1:]), dtype=torch.float32, generator=generator, device="cpu")
        per_item[i] = n
    return torch.cat([per_item[i] for i in batch_index])


def noise_mask_for(mask: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
    m = mask.float()
    m = m.reshape(-1, 1, m.shape[-2], m.shape[-1])
    m = F.interpolate(m, size=latent.shape[-2:], mode="bilinear", align_corners=False)
    m = m.repeat(math.ceil(latent.shape[0] / m.shape[0]), 1, 1, 1)[: latent.shape[0]]
    return m.expand(-1, latent.shape[1], -1, -1)


def fix_channels(model, latent: torch.Tensor) -> torch.Tensor:
    if latent.shape[1] != model.latent_channels:
        raise ValueError(
            f"the latent has {latent.shape[1]} channels but this model works on "
            f"{model.latent_channels}; use a latent made for this model family"
        )
    return latent


@dataclass
class SampleRequest:
    model: object
    positive: list
    negative: list
    latent: dict
    seed: int = 0
    cfg: float = 8.0
    sampler_name: str = "euler"
    add_noise: bool = True
    noise: torch.Tensor | None = None  # initial noise made by the caller (ComfyUI's comfy.sample); else from seed


def initial_noise(req: SampleRequest, latent: torch.Tensor) -> torch.Tensor:
    if req.noise is not None:
        if tuple(req.noise.shape) != tuple(latent.shape):
            raise ValueError(f"noise of shape {list(req.noise.shape)} for a latent of shape {list(latent.shape)}")
        return req.noise.to(device=latent.device, dtype=torch.float32)
    if not req.add_noise:
        return torch.zeros_like(latent)
    return prepare_noise(latent, req.seed, req.latent.get("batch_index"))


def is_full_denoise(model, sigmas: torch.Tensor) -> bool:
    """Whether the run starts from pure noise (the first sigma is the model's largest)."""
    s0, top = float(sigmas[0]), model.schedule.sigma_max
    return math.isclose(s0, top, rel_tol=1e-5) or s0 > top


def start_point(model, latent: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """x at the first sigma: latent + noise * sigma0, or noise * sqrt(1 + sigma0^2) from pure noise
    (flow models: sigma0 noise + (1 - sigma0) latent)."""
    s0 = float(sigmas[0])
    if is_flow(model):
        return noise_latent(True, s0, noise, latent)
    return latent + noise * (math.sqrt(1.0 + s0 * s0) if is_full_denoise(model, sigmas) else s0)


def sampling_session(model):
    """The model's own context around a run (ComfyUI pre-run / cleanup callbacks), if it has one."""
    session = getattr(model, "sampling_session", None)
    return session() if callable(session) else contextlib.nullcontext()


def masked(
    denoise, model, latent: torch.Tensor, noise: torch.Tensor, mask: torch.Tensor, sigmas: torch.Tensor, options: dict
):
    """``denoise`` inpainting only where ``mask`` is 1 (with the model's denoise_mask_function, if any)."""
    return with_noise_mask(
        denoise,
        latent,
        noise,
        mask,
        options.get("denoise_mask_function"),
        {"model": getattr(model, "model", model), "sigmas": sigmas},
        flow=is_flow(model),
    )


def sample_with_sigmas(
    req: SampleRequest, sigmas: torch.Tensor, callback: StepCallback | None = None, sampler_fn=None
) -> dict:
    """Run one sampler over ``sigmas`` (the SamplerCustom path). Returns a new LATENT dict."""
    model = req.model
    out = dict(req.latent)
    if sigmas.numel() < 2:
        return out  # nothing to do (denoise 0)
    # LATENT holds unscaled VAE latents; the samplers work in the model's own latent space
    original = fix_channels(model, req.latent["samples"].float())
    latent = model.process_latent_in(original)
    noise = initial_noise(req, latent)
    x = start_point(model, latent, noise, sigmas)
    fn = sampler_fn or get_sampler(req.sampler_name)
    mask = None
    with sampling_session(model):
        guider = Guider(
            model,
            req.positive,
            req.negative,
            req.cfg,
            tuple(latent.shape),
            keep_uncond=getattr(fn, "needs_uncond", False),
        )
        denoise = guider
        if req.latent.get("noise_mask") is not None:
            mask = noise_mask_for(req.latent["noise_mask"], latent)
            denoise = masked(guider, model, latent, noise, mask, sigmas, guider.options)
        extra = SamplerExtras(seed=req.seed, callback=callback, schedule=model.schedule)
        samples = fn(denoise, x, sigmas.float(), extra=extra)
    samples = model.process_latent_out(unnoise_final(is_flow(model), float(sigmas[-1]), samples))
    if mask is not None:
        samples = samples * mask + original * (1 - mask)  # the unmasked area exactly as it came in
    out["samples"] = samples
    return out


# ComfyUI's KSampler computes one step more for these samplers and drops the second-to-last sigma, so
# that their last step (to sigma 0) starts from a larger sigma; SamplerCustom uses its sigmas as given
DISCARD_PENULTIMATE_SIGMA_SAMPLERS = frozenset({"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"})


def _without_penultimate(model, scheduler: str, steps: int) -> torch.Tensor:
    sigmas = calculate_sigmas(model.schedule, scheduler, steps + 1)
    return torch.cat([sigmas[:-2], sigmas[-1:]])


def ksampler_sigmas(
    model,
    scheduler: str,
    steps: int,
    denoise: float = 1.0,
    start_step: int | None = None,
    end_step: int | None = None,
    force_full_denoise: bool = False,
    sampler_name: str | None = None,
) -> torch.Tensor:
    """The schedule KSampler / KSamplerAdvanced use (denoise < 1 keeps the tail of a longer schedule;
    start/end cut; the samplers in DISCARD_PENULTIMATE_SIGMA_SAMPLERS drop a sigma first)."""
    if steps < 1:
        raise ValueError("steps must be at least 1")
    if sampler_name not in DISCARD_PENULTIMATE_SIGMA_SAMPLERS:
        sigmas = (
            split_for_denoise(model.schedule, scheduler, steps, denoise)
            if denoise < 0.9999
            else calculate_sigmas(model.schedule, scheduler, steps)
        )
    elif denoise >= 0.9999:
        sigmas = _without_penultimate(model, scheduler, steps)
    elif denoise <= 0.0:
        sigmas = torch.zeros(0, dtype=torch.float32)
    else:  # as split_for_denoise, on the shortened table
        sigmas = _without_penultimate(model, scheduler, int(steps / denoise))[-(steps + 1) :]
    if end_step is not None and end_step < len(sigmas) - 1:
        sigmas = sigmas[: end_step + 1].clone()
        if force_full_denoise:
            sigmas[-1] = 0
    if start_step is not None:
        if start_step >= len(sigmas) - 1:
            return sigmas[-1:]  # nothing left to sample
        sigmas = sigmas[start_step:]
    return sigmas


def ksample(
    req: SampleRequest,
    scheduler: str,
    steps: int,
    denoise: float = 1.0,
    start_step: int | None = None,
    end_step: int | None = None,
    force_full_denoise: bool = True,
    callback: StepCallback | None = None,
) -> dict:
    sigmas = ksampler_sigmas(
        req.model, scheduler, steps, denoise, start_step, end_step, force_full_denoise, sampler_name=req.sampler_name
    )
    if sigmas.numel() < 2:
        return dict(req.latent)
    return sample_with_sigmas(req, sigmas, callback)

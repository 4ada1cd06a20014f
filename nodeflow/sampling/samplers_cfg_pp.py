"""CFG++ samplers (Chung et al. 2024, "CFG++: manifold-constrained classifier free guidance").

Plain CFG steps along the guided estimate ``D``: the ODE step renoises ``D`` with the slope
``(x - D) / sigma``.  CFG++ keeps ``D`` as the point it jumps to but renoises it with the
*unconditional* slope ``(x - U) / sigma`` (``U`` = :meth:`Run.uncond`), which keeps the sample on
the data manifold at small guidance scales; ComfyUI runs these at the ordinary KSampler cfg.
With ``U == D`` (no guidance) each one but ``dpmpp_2s_ancestral_cfg_pp`` is its plain counterpart.
"""

from __future__ import annotations

import math

import torch

from ._common import Denoiser, Run, SamplerExtras, ancestral_split, lam, needs_uncond
from .flow_sde import in_half_log_snr

__all__ = ["dpmpp_2m_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "euler_ancestral_cfg_pp", "euler_cfg_pp"]


def _euler_cfg_pp_walk(run: Run, x: torch.Tensor, eta: float) -> torch.Tensor:
    """Jump to D, renoise along the unconditional slope down to sigma_down, then fresh noise of
    size sigma_up (none at eta 0)."""
    s_noise = run.extra.s_noise

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        down, up = ancestral_split(s, s_next, eta)
        x = denoised + (x - run.uncond()) * (down / s)
        if up > 0 and s_noise > 0:
            x = x + run.noise(s, s_next) * (s_noise * up)
        return x

    return run.walk(x, step)


@needs_uncond
@torch.no_grad()
@in_half_log_snr()
def euler_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Euler (DDIM) step with CFG++: ``x' = D + sigma' * (x - U) / sigma``."""
    return _euler_cfg_pp_walk(Run(denoise, x, sigmas, extra), x, eta=0.0)


@needs_uncond
@torch.no_grad()
@in_half_log_snr()
def euler_ancestral_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Ancestral Euler with CFG++ (``extra.eta``, ``extra.s_noise``; ComfyUI's defaults are 1)."""
    run = Run(denoise, x, sigmas, extra)
    return _euler_cfg_pp_walk(run, x, eta=run.extra.eta)


@needs_uncond
@torch.no_grad()
def dpmpp_2s_ancestral_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """DPM-Solver++(2S) ancestral with CFG++, as ComfyUI's KSampler runs it.

    The first stage is the CFG++ jump to the lambda midpoint, ``x_mid = D + (s_mid/s) (x - U)``.
    The second solves the step down to sigma_down towards the midpoint's guided estimate ``D2``
    starting from ``x + D - U2`` (the first guided estimate against the *midpoint's*
    unconditional one); fresh noise of size sigma_up follows.  This is the formulation of the
    ComfyUI release the reference data comes from (newer ones rewrote it); unlike the others it
    is not its plain counterpart without guidance (``U = D`` leaves ``D - D2`` in the start).
    """
    run = Run(denoise, x, sigmas, extra)
    eta, s_noise = run.extra.eta, run.extra.s_noise

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        down, up = ancestral_split(s, s_next, eta)
        if down == 0:
            x = denoised
        else:
            s_mid = math.sqrt(s * down)  # the midpoint in lambda = -log sigma
            x_mid = denoised + (x - run.uncond()) * (s_mid / s)
            denoised_mid = run.denoise(x_mid, s_mid)
            start = x + (denoised - run.uncond())
            x = denoised_mid + (start - denoised_mid) * (down / s)
        if up > 0 and s_noise > 0:
            x = x + run.noise(s, s_next) * (s_noise * up)
        return x

    return run.walk(x, step)


@needs_uncond
@torch.no_grad()
def dpmpp_2m_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """DPM-Solver++(2M) with CFG++: ``x' = D + (sigma'/sigma) (x - U)`` plus, from the second step,
    the 2M correction ``(1 - sigma'/sigma) / (2 r) * (D - U_prev)`` with ``r = h_prev / h`` in
    lambda (ComfyUI's formulation: the current guided estimate against the previous unconditional
    one)."""
    run = Run(denoise, x, sigmas, extra)
    old_uncond: torch.Tensor | None = None

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal old_uncond
        uncond = run.uncond()
        ratio = s_next / s  # exp(-h)
        x = denoised + (x - uncond) * ratio
        if old_uncond is not None:
            h, h_last = lam(s_next) - lam(s), lam(s) - lam(run.sigmas[i - 1])
            x = x + (denoised - old_uncond) * (-math.expm1(-h) * h / (2.0 * h_last))
        old_uncond = uncond
        return x

    return run.walk(x, step)

"""RES multistep samplers (Zhang et al. 2023, "Improved order analysis and design of exponential
integrator for diffusion models", https://arxiv.org/abs/2308.02157).

In lambda = -log sigma the probability-flow ODE is ``dx/dlambda = D - x``; over a step of length
``h`` the exponential integrator gives ``x' = e^{-h} x + h (b1 D + b2 D_prev)`` with the
second-order "RES" weights ``b2 = phi_2(h) / c2``, ``b1 = phi_1(h) - b2`` (``phi_k`` of
:func:`._common.phi`, e.g. ``phi_1(h) = (1 - e^{-h}) / h``) where ``c2`` places the previous
estimate relative to the step.  The first step (no history) is Euler.

Variants: ``_ancestral`` steps down to sigma_down and adds fresh noise of size sigma_up
(``extra.eta``, default 1); ``_cfg_pp`` uses the unconditional estimates for the ODE and adds the
guidance ``D - U`` to ``x`` first (CFG++, see :mod:`.samplers_cfg_pp`).
"""

from __future__ import annotations

import math

import torch

from ._common import Denoiser, Run, SamplerExtras, ancestral_split, lam, needs_uncond, phi

__all__ = ["res_multistep", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "res_multistep_cfg_pp"]


def _res_weights(h: float, c2: float) -> tuple[float, float]:
    """(b1, b2) for ``x' = e^{-h} x + h (b1 D + b2 D_prev)`` (none for a degenerate step)."""
    if h == 0 or c2 == 0:
        return 0.0, 0.0
    b2 = phi(2, h) / c2
    return phi(1, h) - b2, b2


def _res_walk(run: Run, x: torch.Tensor, eta: float, cfg_pp: bool) -> torch.Tensor:
    s_noise = run.extra.s_noise
    old: torch.Tensor | None = None  # the previous step's estimate (U with CFG++)
    old_down = 0.0  # where the previous step's ODE part ended

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal old, old_down
        down, up = ancestral_split(s, s_next, eta)
        estimate = run.uncond() if cfg_pp else denoised
        if down == 0 or old is None:  # Euler
            x = denoised + (x - estimate) * (down / s) if cfg_pp else x + (x - denoised) * ((down - s) / s)
        else:
            h = lam(down) - lam(s)
            # the previous estimate sits at lambda(sigma_prev) - lambda(previous sigma_down)
            # relative to this step (-h_prev / h for the ODE samplers)
            c2 = (lam(run.sigmas[i - 1]) - lam(old_down)) / h
            b1, b2 = _res_weights(h, c2)
            if cfg_pp:
                x = x + (denoised - estimate)
            x = x * math.exp(-h) + (estimate * b1 + old * b2) * h
        if up > 0 and s_noise > 0:
            x = x + run.noise(s, s_next) * (s_noise * up)
        old, old_down = estimate, down
        return x

    return run.walk(x, step)


@torch.no_grad()
def res_multistep(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Second-order RES multistep ODE solver."""
    return _res_walk(Run(denoise, x, sigmas, extra), x, eta=0.0, cfg_pp=False)


@needs_uncond
@torch.no_grad()
def res_multistep_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """RES multistep with CFG++."""
    return _res_walk(Run(denoise, x, sigmas, extra), x, eta=0.0, cfg_pp=True)


@torch.no_grad()
def res_multistep_ancestral(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """RES multistep down to sigma_down, then fresh noise of size sigma_up."""
    run = Run(denoise, x, sigmas, extra)
    return _res_walk(run, x, eta=run.extra.eta, cfg_pp=False)


@needs_uncond
@torch.no_grad()
def res_multistep_ancestral_cfg_pp(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Ancestral RES multistep with CFG++."""
    run = Run(denoise, x, sigmas, extra)
    return _res_walk(run, x, eta=run.extra.eta, cfg_pp=True)

"""Multistep samplers: each step reuses x0 estimates (or slopes) from earlier steps.

Notation: ``h = lambda_next - lambda`` with ``lambda = -log sigma``.  Along the
probability-flow ODE ``dx/dlambda = D - x``, so over one step
``x' = e^{-h} x + integral_0^h e^{-(h-u)} D(lambda + u) du``; the DPM-Solver++
family replaces D by a polynomial in lambda through the stored estimates (their SDE
variants, driven by a Brownian tree, are in :mod:`.samplers_sde`).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from ._common import Denoiser, Run, SamplerExtras, lagrange_weights, lam, slope
from .schedules import DiscreteSchedule

__all__ = ["lms", "dpmpp_2m", "ipndm", "deis"]


@torch.no_grad()
def lms(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
        extra: Optional[SamplerExtras] = None, order: int = 4) -> torch.Tensor:
    """Linear multistep (Adams-Bashforth in sigma with variable steps), order up to 4.

    The weights are the integrals over [sigma, sigma_next] of the Lagrange basis
    polynomials through the last ``order`` sigmas (Simpson's rule, exact for cubics).
    """
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = (slopes + [slope(x, denoised, s)])[-order:]
        nodes = [run.sigmas[i - j] for j in range(len(slopes))]
        weights = lagrange_weights(nodes, s, s_next, panels=2)
        for w, d in zip(weights, reversed(slopes)):
            x = x + d * w
        return x
    return run.walk(x, step)


@torch.no_grad()
def dpmpp_2m(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
             extra: Optional[SamplerExtras] = None) -> torch.Tensor:
    """DPM-Solver++(2M): D extrapolated linearly in lambda to the middle of the step."""
    run = Run(denoise, x, sigmas, extra)
    old: Optional[torch.Tensor] = None
    h_last = 0.0

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal old, h_last
        h = lam(s_next) - lam(s)
        target = denoised
        if old is not None and h_last > 0:
            target = denoised + (denoised - old) * (h / (2.0 * h_last))
        x = target + (x - target) * math.exp(-h)
        old, h_last = denoised, h
        return x
    return run.walk(x, step)


# Adams-Bashforth weights for equal steps, newest slope first.
_AB_WEIGHTS = (
    (1.0,),
    (3 / 2, -1 / 2),
    (23 / 12, -16 / 12, 5 / 12),
    (55 / 24, -59 / 24, 37 / 24, -9 / 24),
)


@torch.no_grad()
def ipndm(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
          extra: Optional[SamplerExtras] = None, order: int = 4) -> torch.Tensor:
    """Improved pseudo-numerical method: fixed Adams-Bashforth weights on dx/dsigma."""
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = (slopes + [slope(x, denoised, s)])[-order:]
        weights = _AB_WEIGHTS[len(slopes) - 1]
        return x + sum(w * d for w, d in zip(weights, reversed(slopes))) * (s_next - s)
    return run.walk(x, step)


@torch.no_grad()
def deis(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
         extra: Optional[SamplerExtras] = None, order: int = 3) -> torch.Tensor:
    """DEIS (time-based Adams-Bashforth): the slope is a polynomial in the model timestep.

    The weights are integrals over [sigma, sigma_next] of Lagrange polynomials in
    ``t(sigma)`` (the schedule's fractional timestep); SD's schedule if none is given.
    """
    run = Run(denoise, x, sigmas, extra)
    schedule = run.extra.schedule or DiscreteSchedule.sd()
    log_sig = schedule.sigmas.to(torch.float64).log().numpy()
    grid = np.arange(log_sig.shape[0], dtype=np.float64)

    def timestep(sig: float) -> float:
        return float(np.interp(math.log(max(sig, 1e-300)), log_sig, grid))

    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = (slopes + [slope(x, denoised, s)])[-order:]
        nodes = [run.sigmas[i - j] for j in range(len(slopes))]
        ts = [timestep(n) for n in nodes]
        distinct = all(abs(a - b) > 1e-9 for k, a in enumerate(ts) for b in ts[k + 1:])
        weights = lagrange_weights(nodes, s, s_next, warp=timestep if distinct else None, panels=16)
        for w, d in zip(weights, reversed(slopes)):
            x = x + d * w
        return x
    return run.walk(x, step)

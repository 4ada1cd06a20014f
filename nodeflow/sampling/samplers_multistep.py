"""Multistep samplers: each step reuses x0 estimates (or slopes) from earlier steps.

Notation: ``h = lambda_next - lambda`` with ``lambda = -log sigma``.  Along the
probability-flow ODE ``dx/dlambda = D - x``, so over one step
``x' = e^{-h} x + integral_0^h e^{-(h-u)} D(lambda + u) du``; the DPM-Solver++
family replaces D by a polynomial in lambda through the stored estimates (their SDE
variants, driven by a Brownian tree, are in :mod:`.samplers_sde`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._common import Denoiser, Run, SamplerExtras, lagrange_weights, lam, slope

__all__ = ["deis", "dpmpp_2m", "ipndm", "lms"]


@torch.no_grad()
def lms(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, order: int = 4
) -> torch.Tensor:
    """Linear multistep (Adams-Bashforth in sigma with variable steps), order up to 4.

    The weights are the integrals over [sigma, sigma_next] of the Lagrange basis
    polynomials through the last ``order`` sigmas (Simpson's rule, exact for cubics).
    """
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = ([*slopes, slope(x, denoised, s)])[-order:]
        nodes = [run.sigmas[i - j] for j in range(len(slopes))]
        weights = lagrange_weights(nodes, s, s_next, panels=2)
        for w, d in zip(weights, reversed(slopes), strict=False):
            x = x + d * w
        return x

    return run.walk(x, step)


@torch.no_grad()
def dpmpp_2m(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """DPM-Solver++(2M): D extrapolated linearly in lambda to the middle of the step."""
    run = Run(denoise, x, sigmas, extra)
    old: torch.Tensor | None = None
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
def ipndm(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, order: int = 4
) -> torch.Tensor:
    """Improved pseudo-numerical method: fixed Adams-Bashforth weights on dx/dsigma."""
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = ([*slopes, slope(x, denoised, s)])[-order:]
        weights = _AB_WEIGHTS[len(slopes) - 1]
        return x + sum(w * d for w, d in zip(weights, reversed(slopes), strict=False)) * (s_next - s)

    return run.walk(x, step)


# DEIS's time: that of a VP-SDE with linear beta(t) = beta_min + beta_d * t, fitted (as EDM does, and
# ComfyUI after it) to sigma(1e-3) = 0.002 and sigma(1) = 80 whatever the model's own schedule.
_DEIS_BETA_D = 2.0 * (math.log1p(0.002**2) / 1e-3 - math.log1p(80.0**2)) / (1e-3 - 1.0)
_DEIS_BETA_MIN = math.log1p(80.0**2) - 0.5 * _DEIS_BETA_D


def _deis_time(sigma: float) -> float:
    """The VP time t with sigma(t)^2 = exp(beta_min t + beta_d t^2 / 2) - 1."""
    return (
        math.sqrt(_DEIS_BETA_MIN**2 + 2.0 * _DEIS_BETA_D * math.log1p(sigma * sigma)) - _DEIS_BETA_MIN
    ) / _DEIS_BETA_D


def _deis_weights(ts: list[float], t_next: float, points: int = 10_000) -> list[float]:
    """Integrals over [ts[0], t_next] of L_j(t) dsigma/dt dt, with L_j the Lagrange basis polynomials
    in t through ``ts`` (current time first).  Like ComfyUI's tabulated DEIS, the integral is the sum
    over ``points`` evenly spaced t from ts[0] to t_next (both ends included) times (t_next - ts[0]) / points."""
    tau = np.linspace(ts[0], t_next, points)
    alpha = np.exp(-(0.5 * _DEIS_BETA_D * tau + _DEIS_BETA_MIN) * tau)  # 1 / (1 + sigma(t)^2)
    dsigma_dt = 0.5 * (_DEIS_BETA_D * tau + _DEIS_BETA_MIN) / np.sqrt(alpha * (1.0 - alpha))
    dtau = (t_next - ts[0]) / points
    weights = []
    for j, t_j in enumerate(ts):
        basis = np.ones_like(tau)
        for m, t_m in enumerate(ts):
            if m != j:
                basis *= (tau - t_m) / (t_j - t_m)
        weights.append(float(np.sum(dsigma_dt * basis)) * dtau)
    return weights


@torch.no_grad()
def deis(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, order: int = 3
) -> torch.Tensor:
    """DEIS (Zhang & Chen 2022), the time-based Adams-Bashforth form ComfyUI calls "tab".

    The slope dx/dsigma is extrapolated as a polynomial in the VP time of :func:`_deis_time` through
    the last ``order`` points and integrated in sigma; the first step is an Euler step.
    """
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = ([*slopes, slope(x, denoised, s)])[-order:]
        if len(slopes) == 1:
            return x + slopes[0] * (s_next - s)
        ts = [_deis_time(run.sigmas[i - j]) for j in range(len(slopes))]
        for w, d in zip(_deis_weights(ts, _deis_time(s_next)), reversed(slopes), strict=False):
            x = x + d * w
        return x

    return run.walk(x, step)

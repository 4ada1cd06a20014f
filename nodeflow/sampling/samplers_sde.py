"""DPM-Solver++ SDE samplers driven by a Brownian tree (:mod:`.brownian`).

Notation as in :mod:`.samplers_multistep`: ``lambda = -log sigma``, ``h = lambda_next - lambda``.
The SDE solvers integrate ``x`` exactly against a polynomial model of the x0 estimate D in
lambda while letting the noise decay at the rate ``eta``: the deterministic part shrinks by
``e^{-H}`` with ``H = (1 + eta) h`` and fresh noise of size
``sigma_next * sqrt(1 - e^{-2 eta h})`` is added.  ``eta = 0`` gives the ODE solvers.

The plain names draw their noise from a tree built on the CPU, the ``_gpu`` names from one on
the latent's device (identical numbers on a CPU).  A noise callable in ``extra.noise`` replaces
the tree.
"""

from __future__ import annotations

import math

import torch

from ._common import Denoiser, Run, SamplerExtras, ancestral_split, lam, phi
from .brownian import with_brownian_noise
from .flow_sde import in_half_log_snr

__all__ = [
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun",
    "dpmpp_2m_sde_heun_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "dpmpp_sde",
    "dpmpp_sde_gpu",
]


def _sde_run(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, extra: SamplerExtras | None, on_device: bool
) -> Run:
    return Run(denoise, x, sigmas, with_brownian_noise(extra, x, sigmas, on_device=on_device))


def _sde_noise(run: Run, s: float, s_next: float, h: float, eta: float) -> torch.Tensor | float:
    """The noise a DPM-Solver++ SDE step adds: sigma_next * sqrt(1 - e^{-2 eta h}) * s_noise * z."""
    s_noise = run.extra.s_noise
    if eta <= 0 or s_noise <= 0:
        return 0.0
    return run.noise(s, s_next) * (s_next * s_noise * math.sqrt(-math.expm1(-2.0 * eta * h)))


def _lambda_midpoint(s: float, s_next: float, r: float) -> float:
    """sigma at ``lambda + r h``, rounded as float32 arithmetic on float32 sigmas rounds it.

    The Brownian tree is queried at this sigma, and its noise depends on the exact time."""
    lam_s = torch.tensor(s, dtype=torch.float32).log().neg()
    lam_t = torch.tensor(s_next, dtype=torch.float32).log().neg()
    return float((lam_s + r * (lam_t - lam_s)).neg().exp())


def _exp_step(x: torch.Tensor, denoised: torch.Tensor, s: float, target: float) -> torch.Tensor:
    """Exact ODE solution for a constant x0 estimate: D + (target / s) * (x - D)."""
    return denoised + (x - denoised) * (target / s)


@torch.no_grad()
@in_half_log_snr(brownian=True)
def dpmpp_sde(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    r: float = 0.5,
    on_device: bool = False,
) -> torch.Tensor:
    """Stochastic DPM-Solver++ (2 stages): an ancestral step to ``lambda + r h`` gives a second
    x0 estimate, then an ancestral full step uses the first-order-in-lambda combination of both."""
    run = _sde_run(denoise, x, sigmas, extra, on_device)
    eta, s_noise = run.extra.eta, run.extra.s_noise
    noisy = eta > 0 and s_noise > 0

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        s_mid = _lambda_midpoint(s, s_next, r)
        down, up = ancestral_split(s, s_mid, eta)
        x_mid = _exp_step(x, denoised, s, down)
        if noisy:
            x_mid = x_mid + run.noise(s, s_mid) * (s_noise * up)
        denoised_mid = run.denoise(x_mid, s_mid)
        # linear-in-lambda x0 estimate whose average over the step is right to O(h^2)
        w = 1.0 / (2.0 * r)
        combined = denoised * (1.0 - w) + denoised_mid * w
        down, up = ancestral_split(s, s_next, eta)
        x = _exp_step(x, combined, s, down)
        return x + run.noise(s, s_next) * (s_noise * up) if noisy else x

    return run.walk(x, step)


@torch.no_grad()
def dpmpp_sde_gpu(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, r: float = 0.5
) -> torch.Tensor:
    """dpmpp_sde with the Brownian tree on the latent's device."""
    return dpmpp_sde(denoise, x, sigmas, extra=extra, r=r, on_device=True)


def _dpmpp_2m_sde(run: Run, x: torch.Tensor, heun: bool) -> torch.Tensor:
    """SDE-DPM-Solver++(2M): D is extrapolated from the last two estimates, linear in lambda.

    ``heun=False`` (midpoint) applies the slope as if D sat at the middle of the step,
    ``heun=True`` integrates the linear D exactly (weight ``H phi_2(H)``)."""
    eta = run.extra.eta
    old: torch.Tensor | None = None
    h_last = 0.0

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal old, h_last
        h = lam(s_next) - lam(s)
        big_h = (1.0 + eta) * h
        decay = -math.expm1(-big_h)  # 1 - e^{-H}
        x = x * ((s_next / s) * math.exp(-eta * h)) + denoised * decay
        if old is not None:
            slope = (denoised - old) * (h / h_last)  # h * dD/dlambda
            x = x + slope * (big_h * phi(2, big_h) if heun else 0.5 * decay)
        x = x + _sde_noise(run, s, s_next, h, eta)
        old, h_last = denoised, h
        return x

    return run.walk(x, step)


@torch.no_grad()
@in_half_log_snr(brownian=True)
def dpmpp_2m_sde(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    on_device: bool = False,
) -> torch.Tensor:
    """SDE-DPM-Solver++(2M), midpoint variant; ``extra.eta`` = 0 gives the ODE solver."""
    return _dpmpp_2m_sde(_sde_run(denoise, x, sigmas, extra, on_device), x, heun=False)


@torch.no_grad()
def dpmpp_2m_sde_gpu(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """dpmpp_2m_sde with the Brownian tree on the latent's device."""
    return dpmpp_2m_sde(denoise, x, sigmas, extra=extra, on_device=True)


@torch.no_grad()
@in_half_log_snr(brownian=True)
def dpmpp_2m_sde_heun(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    on_device: bool = False,
) -> torch.Tensor:
    """SDE-DPM-Solver++(2M), Heun variant (the linear D integrated exactly)."""
    return _dpmpp_2m_sde(_sde_run(denoise, x, sigmas, extra, on_device), x, heun=True)


@torch.no_grad()
def dpmpp_2m_sde_heun_gpu(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """dpmpp_2m_sde_heun with the Brownian tree on the latent's device."""
    return dpmpp_2m_sde_heun(denoise, x, sigmas, extra=extra, on_device=True)


@torch.no_grad()
@in_half_log_snr(brownian=True)
def dpmpp_3m_sde(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    on_device: bool = False,
) -> torch.Tensor:
    """SDE-DPM-Solver++(3M): first and second differences of the last three estimates.

    With ``d1`` ~ h D' and ``d2`` ~ h^2 D''/2 the step adds ``H phi_2(H) d1 + H phi_3(H) d2``
    (the DPM-Solver++(3M) weights as ComfyUI applies them; exactly integrating the quadratic
    would weight d2 by ``2 H phi_3(H)``, so the ODE solver is second order with a small
    third-order correction).  Steps with less history fall back to 2M (Heun) and to 1st order.
    """
    run = _sde_run(denoise, x, sigmas, extra, on_device)
    eta = run.extra.eta
    hist: list[tuple[float, torch.Tensor]] = []  # (h of the step that followed it, D), newest last

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal hist
        h = lam(s_next) - lam(s)
        big_h = (1.0 + eta) * h
        x = x * ((s_next / s) * math.exp(-eta * h)) + denoised * -math.expm1(-big_h)
        if hist:
            h1, den1 = hist[-1]
            d1_0 = (denoised - den1) * (h / h1)  # h * slope at lambda - h1/2
            if len(hist) >= 2:
                h2, den2 = hist[-2]
                d1_1 = (den1 - den2) * (h / h2)  # h * slope at lambda - h1 - h2/2
                span = (h1 + h2) / h
                d2 = (d1_0 - d1_1) / span  # ~ h^2 D'' / 2
                d1 = d1_0 + d2 * (h1 / h)  # ~ h D'(lambda)
                x = x + d1 * (big_h * phi(2, big_h)) + d2 * (big_h * phi(3, big_h))
            else:
                x = x + d1_0 * (big_h * phi(2, big_h))
        x = x + _sde_noise(run, s, s_next, h, eta)
        hist = ([*hist, (h, denoised)])[-2:]
        return x

    return run.walk(x, step)


@torch.no_grad()
def dpmpp_3m_sde_gpu(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """dpmpp_3m_sde with the Brownian tree on the latent's device."""
    return dpmpp_3m_sde(denoise, x, sigmas, extra=extra, on_device=True)

"""SEEDS (Gonzalez et al. 2023) and the exponential Heun method in data prediction.

Stochastic Explicit Exponential Derivative-free Solvers integrate the SDE whose noise decays at
rate ``eta`` exactly against a polynomial model of the x0 estimate D in ``lambda = -log sigma``,
with stages at ``lambda + r h`` (``h = lambda_next - lambda``, ``H = (1 + eta) h``).  Over a
stage from ``lambda`` to ``lambda + c h`` the linear part is
``x -> (sigma_c / sigma) e^{-eta c h} x + (1 - e^{-c H}) D`` and a slope ``D'`` (per unit of
lambda) contributes ``(cH) phi_2(cH) * c h D'`` -- the same weights as DPM-Solver++.

The noise of the stages is one Brownian path: each stage carries the previous stage's noise
forward, decayed by ``e^{-eta (c_next - c) h}``, and adds an independent part, so the step's
total noise has the SDE's exact variance.  Each stage draws from ``run.noise`` (the seed+1
generator) whenever noise is on, even where its weight is 0 (``r = 1``), like ComfyUI.
"""

from __future__ import annotations

import math

import torch

from ._common import Denoiser, Run, SamplerExtras, lam, phi
from .flow_sde import in_half_log_snr

__all__ = ["exp_heun_2_x0", "exp_heun_2_x0_sde", "seeds_2", "seeds_3"]


def _stage_sigma(s: float, s_next: float, c: float) -> float:
    """sigma at ``lambda + c h``."""
    return s_next if c == 1.0 else math.exp(-(lam(s) + c * (lam(s_next) - lam(s))))


def _linear(x: torch.Tensor, denoised: torch.Tensor, s: float, s_c: float, ch: float, eta: float) -> torch.Tensor:
    """Exact step of the SDE's drift to sigma ``s_c`` (``ch`` = its lambda distance) with D fixed."""
    return x * ((s_c / s) * math.exp(-eta * ch)) + denoised * -math.expm1(-(1.0 + eta) * ch)


def _hphi2(ch: float, eta: float) -> float:
    """``(cH) phi_2(cH)``: the weight of a lambda-slope over a stage of length ``ch``."""
    big = (1.0 + eta) * ch
    return big * phi(2, big)


class _StageNoise:
    """The noise of one step's stages along a single path (see the module docstring)."""

    def __init__(self, run: Run, eta: float, h: float) -> None:
        self.run, self.eta, self.h = run, eta, h
        self.on = eta > 0 and run.extra.s_noise > 0
        self.value: torch.Tensor | None = None
        self.c = 0.0

    def advance(self, x: torch.Tensor, s_from: float, s_to: float, c_to: float) -> torch.Tensor:
        """Carry the path from stage ``self.c`` to ``c_to`` (sigma ``s_to``) and add it to x."""
        if not self.on:
            return x
        segment = (self.c - c_to) * self.h * self.eta  # <= 0
        fresh = self.run.noise(s_from, s_to) * math.sqrt(-math.expm1(2.0 * segment))
        self.value = fresh if self.value is None else self.value * math.exp(segment) + fresh
        self.c = c_to
        return x + self.value * (s_to * self.run.extra.s_noise)


def _seeds_2_walk(run: Run, x: torch.Tensor, eta: float, r: float, phi_2: bool) -> torch.Tensor:
    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        h = lam(s_next) - lam(s)
        s_1 = _stage_sigma(s, s_next, r)
        noise = _StageNoise(run, eta, h)
        x_1 = noise.advance(_linear(x, denoised, s, s_1, r * h, eta), s, s_1, r)
        denoised_1 = run.denoise(x_1, s_1)
        x = _linear(x, denoised, s, s_next, h, eta)
        if phi_2:  # D linear in lambda through both estimates, integrated exactly
            x = x + (denoised_1 - denoised) * (_hphi2(h, eta) / r)
        else:  # the midpoint-style combination D + (D_1 - D) / (2r)
            x = x + (denoised_1 - denoised) * (-math.expm1(-(1.0 + eta) * h) / (2.0 * r))
        return noise.advance(x, s_1, s_next, 1.0)

    return run.walk(x, step)


@torch.no_grad()
@in_half_log_snr()
def seeds_2(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    r: float = 0.5,
    solver_type: str = "phi_1",
) -> torch.Tensor:
    """SEEDS-2: two stages (the second at ``lambda + r h``), noise rate ``extra.eta``.

    ``solver_type`` "phi_1" combines the estimates as ``D + (D_1 - D) / (2r)`` under the
    plain exponential weight, "phi_2" integrates the line through them exactly."""
    if solver_type not in ("phi_1", "phi_2"):
        raise ValueError("solver_type must be 'phi_1' or 'phi_2'")
    run = Run(denoise, x, sigmas, extra)
    return _seeds_2_walk(run, x, run.extra.eta, r, solver_type == "phi_2")


@torch.no_grad()
@in_half_log_snr()
def exp_heun_2_x0(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Exponential Heun (2nd order) in data prediction and lambda time: an exponential Euler
    step to the end, then the line through both x0 estimates integrated exactly."""
    return _seeds_2_walk(Run(denoise, x, sigmas, extra), x, 0.0, 1.0, True)


@torch.no_grad()
@in_half_log_snr()
def exp_heun_2_x0_sde(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """exp_heun_2_x0 for the SDE with noise rate ``extra.eta`` (SEEDS-2 with r = 1, phi_2)."""
    run = Run(denoise, x, sigmas, extra)
    return _seeds_2_walk(run, x, run.extra.eta, 1.0, True)


@torch.no_grad()
@in_half_log_snr()
def seeds_3(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    r_1: float = 1.0 / 3.0,
    r_2: float = 2.0 / 3.0,
) -> torch.Tensor:
    """SEEDS-3: stages at ``lambda + r_1 h`` and ``lambda + r_2 h``; each later stage uses the
    slope between D and the previous stage's estimate, integrated exactly."""
    run = Run(denoise, x, sigmas, extra)
    eta = run.extra.eta

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        h = lam(s_next) - lam(s)
        s_1, s_2 = _stage_sigma(s, s_next, r_1), _stage_sigma(s, s_next, r_2)
        noise = _StageNoise(run, eta, h)
        x_1 = noise.advance(_linear(x, denoised, s, s_1, r_1 * h, eta), s, s_1, r_1)
        denoised_1 = run.denoise(x_1, s_1)
        x_2 = _linear(x, denoised, s, s_2, r_2 * h, eta)
        x_2 = x_2 + (denoised_1 - denoised) * (_hphi2(r_2 * h, eta) * r_2 / r_1)
        x_2 = noise.advance(x_2, s_1, s_2, r_2)
        denoised_2 = run.denoise(x_2, s_2)
        x = _linear(x, denoised, s, s_next, h, eta)
        x = x + (denoised_2 - denoised) * (_hphi2(h, eta) / r_2)
        return noise.advance(x, s_2, s_next, 1.0)

    return run.walk(x, step)

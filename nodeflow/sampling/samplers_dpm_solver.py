"""DPM-Solver (Lu et al. 2022, https://arxiv.org/abs/2206.00927) in its noise-prediction form:
``dpm_fast`` (fixed steps of orders 3, 3, ..., 2, 1 spending exactly the step budget) and
``dpm_adaptive`` (embedded 2nd/3rd-order pair with step size control).

Both work in ``t = lambda = -log sigma`` on ``eps = (x - D) / sigma`` and, as ComfyUI's KSampler
runs them, take only the range of the schedule: from ``sigmas[0]`` down to its last nonzero sigma
(the final jump to 0 is never taken, so the result keeps that last, small noise level; with a
single step the range is empty and ``x`` comes back unchanged).  The number of network calls of
``dpm_fast`` equals the schedule's step count; ``dpm_adaptive`` uses as many as it needs.
Deterministic (eta 0, ComfyUI's default).
"""

from __future__ import annotations

import math

import torch

from ._common import Denoiser, Run, SamplerExtras, lam

__all__ = ["dpm_adaptive", "dpm_fast"]


def _sigma(t: float) -> float:
    return math.exp(-t)


def _range(run: Run) -> tuple[float, float]:
    """(t_start, t_end): lambda of sigmas[0] and of the last nonzero sigma."""
    last = run.sigmas[-1] if run.sigmas[-1] > 0 else run.sigmas[-2]
    return lam(run.sigmas[0]), lam(last)


class _Step:
    """One DPM-Solver step from ``t`` over ``h`` in lambda: the stage estimates of eps it needs,
    each taken once, and the update formulas of orders 1 to 3."""

    def __init__(
        self, run: Run, x: torch.Tensor, t: float, h: float, first: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        self.run, self.x, self.t, self.h = run, x, t, h
        self.denoised, self.eps = first if first is not None else self._eps(x, t)
        self._stages: dict[float, torch.Tensor] = {}

    def _eps(self, x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        denoised = self.run.denoise(x, _sigma(t))
        return denoised, (x - denoised) / _sigma(t)

    def _jump(self, r: float) -> torch.Tensor:
        """First-order (DDIM) move to t + r h with the eps at t: exact for constant eps."""
        return self.x - self.eps * (_sigma(self.t + r * self.h) * math.expm1(r * self.h))

    def stage(self, r: float) -> torch.Tensor:
        """eps at t + r h, from the first-order move there."""
        if r not in self._stages:
            self._stages[r] = self._eps(self._jump(r), self.t + r * self.h)[1]
        return self._stages[r]

    def order1(self) -> torch.Tensor:
        return self._jump(1.0)

    def order2(self, r1: float = 0.5) -> torch.Tensor:
        """DPM-Solver-2: the eps difference to the stage at r1 as a linear term."""
        scale = _sigma(self.t + self.h) * math.expm1(self.h) / (2.0 * r1)
        return self.order1() - (self.stage(r1) - self.eps) * scale

    def order3(self, r1: float = 1 / 3, r2: float = 2 / 3) -> torch.Tensor:
        """DPM-Solver-3: a second stage at r2 taken with the r1 correction, then the final
        combination of eps at t and at r2."""
        if r2 not in self._stages:
            rh = r2 * self.h
            scale = _sigma(self.t + rh) * (r2 / r1) * (math.expm1(rh) / rh - 1.0)
            x2 = self._jump(r2) - (self.stage(r1) - self.eps) * scale
            self._stages[r2] = self._eps(x2, self.t + rh)[1]
        scale = _sigma(self.t + self.h) / r2 * (math.expm1(self.h) / self.h - 1.0)
        return self.order1() - (self._stages[r2] - self.eps) * scale


@torch.no_grad()
def dpm_fast(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """DPM-Solver-fast: ``n`` network calls as ``n // 3 + 1`` equal steps in lambda, all of
    order 3 but the last (order ``n % 3``, or orders 2 then 1 when 3 divides ``n``)."""
    run = Run(denoise, x, sigmas, extra)
    if run.steps < 1:
        return x
    t_start, t_end = _range(run)
    if t_end == t_start:
        return x
    calls = run.steps
    m = calls // 3 + 1
    ts = [t_start + (t_end - t_start) * k / m for k in range(m + 1)]
    orders = [3] * (m - 2) + [2, 1] if calls % 3 == 0 else [3] * (m - 1) + [calls % 3]
    used = 0
    for k, order in enumerate(orders):
        step = _Step(run, x, ts[k], ts[k + 1] - ts[k])
        x = step.order1() if order == 1 else step.order2() if order == 2 else step.order3()
        used += order
        run.report(used - 1, x, step.denoised)  # progress in network calls
    return x


class _StepSizeController:
    """PID control of the step size from the error ratio (1 = error at tolerance): the factor
    ``1 + atan(f - 1)`` with ``f`` a product of powers of the last three inverse errors; a step
    is accepted when the factor reaches ``accept_safety``, and ``h`` is scaled either way."""

    def __init__(
        self, h: float, pcoeff: float, icoeff: float, dcoeff: float, order: float, accept_safety: float
    ) -> None:
        self.h = h
        self.powers = ((pcoeff + icoeff + dcoeff) / order, -(pcoeff + 2 * dcoeff) / order, dcoeff / order)
        self.accept_safety = accept_safety
        self.inv_errors: list[float] = []

    def propose(self, error: float) -> bool:
        inv = 1.0 / (error + 1e-8)
        if not self.inv_errors:
            self.inv_errors = [inv, inv, inv]
        self.inv_errors[0] = inv
        f = math.prod(e**p for e, p in zip(self.inv_errors, self.powers, strict=False))
        factor = 1.0 + math.atan(f - 1.0)
        accept = factor >= self.accept_safety
        if accept:
            self.inv_errors[1:] = self.inv_errors[:2]
        self.h *= factor
        return accept


@torch.no_grad()
def dpm_adaptive(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    order: int = 3,
    rtol: float = 0.05,
    atol: float = 0.0078,
    h_init: float = 0.05,
    pcoeff: float = 0.0,
    icoeff: float = 1.0,
    dcoeff: float = 0.0,
    accept_safety: float = 0.81,
) -> torch.Tensor:
    """DPM-Solver-23 (or -12 with ``order=2``) with adaptive steps (defaults as ComfyUI).

    Each attempt computes a low- and a high-order solution from shared stages; their difference
    over ``max(atol, rtol * max(|x_low|, |x_low of the last accepted step|))``, as an RMS, is the
    error driving :class:`_StepSizeController`.  A rejected attempt keeps the estimate at its start.
    Progress is reported as the share of the lambda range covered, in schedule steps.
    """
    if order not in (2, 3):
        raise ValueError("dpm_adaptive: order must be 2 or 3")
    run = Run(denoise, x, sigmas, extra)
    if run.steps < 1:
        return x
    t_start, t_end = _range(run)
    control = _StepSizeController(h_init, pcoeff, icoeff, dcoeff, order, accept_safety)
    s, x_prev = t_start, x
    first: tuple[torch.Tensor, torch.Tensor] | None = None
    while s < t_end - 1e-5:
        t = min(t_end, s + control.h)
        step = _Step(run, x, s, t - s, first)
        first = (step.denoised, step.eps)
        if order == 2:
            x_low, x_high = step.order1(), step.order2(0.5)
        else:
            x_low, x_high = step.order2(1 / 3), step.order3()
        delta = (rtol * torch.maximum(x_low.abs(), x_prev.abs())).clamp_min(atol)
        error = float(torch.linalg.norm((x_low - x_high) / delta)) / math.sqrt(x.numel())
        if control.propose(error):
            x_prev, x, s, first = x_low, x_high, t, None
        done = (s - t_start) / (t_end - t_start)
        run.report(min(run.steps - 1, int(done * run.steps)), x, step.denoised)
    return x

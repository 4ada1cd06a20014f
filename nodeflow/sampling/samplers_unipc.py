"""UniPC (Zhao et al. 2023): unified predictor-corrector in the data-prediction form.

With ``lambda = -log sigma`` and ``h = lambda_next - lambda`` the exact step is
``x' = e^{-h} x + sum_n h^{n+1} phi_{n+1}(h) D^{(n)}``.  UniPC writes the correction
terms as ``B(h) * sum_m a_m D_m`` with divided differences
``D_m = (D(lambda + r_m h) - D) / r_m`` and picks the ``a_m`` so that the first
``p`` Taylor terms match: ``sum_m a_m r_m^(n-1) = h n! phi_{n+1}(h) / B(h)``,
n = 1..p.  The predictor (UniP) uses earlier points (r_m < 0); the corrector (UniC)
adds the fresh estimate at the new point (r = 1), which costs no extra model call
because that estimate is needed by the next step anyway.  ``B(h) = h`` is "bh1",
``B(h) = 1 - e^{-h}`` (the data-prediction form of ``e^h - 1``) is "bh2".

Solving a square system exactly would cancel B(h).  A single-coefficient system
(order-1 corrector, order-2 predictor) instead takes its h -> 0 limit ``a = 1/2``:
``B(h) / 2`` matches ``h phi_2(h)`` to O(h^2), enough for the order, and this is
where the bh1/bh2 choice shows.

Finishing at sigma = 0 takes ``x = D(x, sigma)`` at the corrected x, which costs one
model call more than the step count.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from ._common import Denoiser, Run, SamplerExtras, lam, phi

__all__ = ["uni_pc", "uni_pc_bh2"]


def _solve(rs: list[float], rhs: list[float]) -> list[float]:
    """Solve sum_m a_m r_m^(n-1) = rhs_n, n = 1..len(rs) (a single unknown: 1/2)."""
    p = len(rs)
    if p == 1:
        return [0.5]
    mat = torch.tensor([[r ** n for r in rs] for n in range(p)], dtype=torch.float64)
    vec = torch.tensor(rhs[:p], dtype=torch.float64)
    return torch.linalg.solve(mat, vec).tolist()


def _unipc(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor,
           extra: Optional[SamplerExtras], b_of_h: Callable[[float], float],
           max_order: int = 3) -> torch.Tensor:
    run = Run(denoise, x, sigmas, extra)
    positive = sum(1 for s in run.sigmas[1:] if s > 0)      # steps not ending at 0
    hist: list[tuple[float, torch.Tensor]] = []              # (lambda, D), newest last
    denoised: Optional[torch.Tensor] = None
    at_x = False                         # was `denoised` evaluated at the current x?
    for i in range(run.steps):
        s, s_next = run.sigmas[i], run.sigmas[i + 1]
        if denoised is None or (s_next == 0 and not at_x):
            # first step, or the final step after a correction moved x: evaluate at x itself
            denoised = run.denoise(x, s)
            at_x = True
        current = denoised
        if s_next == 0:
            x = current
            run.report(i, x, current)
            continue
        hist = (hist + [(lam(s), current)])[-max_order:]
        order = min(max_order, len(hist))
        if positive < 10:           # few steps: lower the order at the end for stability
            order = min(order, positive - i)
        order = max(order, 1)

        lam_s = lam(s)
        h = lam(s_next) - lam_s
        b_h = b_of_h(h)
        rhs = [h * math.factorial(n) * phi(n + 1, h) / b_h for n in range(1, order + 1)]
        rs: list[float] = []
        diffs: list[torch.Tensor] = []
        for lam_m, den_m in reversed(hist[-order:-1] if order > 1 else []):
            r = (lam_m - lam_s) / h
            rs.append(r)
            diffs.append((den_m - current) / r)

        base = current + (x - current) * (s_next / s)      # e^{-h} x + (1 - e^{-h}) D
        x_pred = base
        if rs:
            coeffs = _solve(rs, rhs)
            for a, d in zip(coeffs, diffs):
                x_pred = x_pred + d * (b_h * a)
        new = run.denoise(x_pred, s_next)
        # corrector: same system with the new point at r = 1
        coeffs = _solve(rs + [1.0], rhs)
        x = base
        for a, d in zip(coeffs, diffs + [new - current]):
            x = x + d * (b_h * a)
        denoised = new                   # reused by the next step (taken before correction)
        at_x = False
        run.report(i, x, current)
    return x


def _b_bh1(h: float) -> float:
    return h


def _b_bh2(h: float) -> float:
    return -math.expm1(-h)


@torch.no_grad()
def uni_pc(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
           extra: Optional[SamplerExtras] = None) -> torch.Tensor:
    """UniPC with B(h) = h ("bh1"), order up to 3, predictor + corrector every step."""
    return _unipc(denoise, x, sigmas, extra, _b_bh1)


@torch.no_grad()
def uni_pc_bh2(denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *,
               extra: Optional[SamplerExtras] = None) -> torch.Tensor:
    """UniPC with B(h) = 1 - e^{-h} ("bh2", i.e. expm1 of the step), order up to 3."""
    return _unipc(denoise, x, sigmas, extra, _b_bh2)

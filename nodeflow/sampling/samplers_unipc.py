"""UniPC (Zhao et al. 2023): unified predictor-corrector, multistep, data-prediction form, run the way
ComfyUI runs it.

UniPC works on the variance-preserving latent ``x_vp = alpha * x`` with ``alpha = 1 / sqrt(1 + sigma^2)``,
``std = sigma * alpha`` and ``lambda = log(alpha / std) = -log sigma``.  With ``h = lambda' - lambda``
the exact step is ``x_vp' = (std'/std) x_vp + alpha' sum_n h^{n+1} phi_{n+1}(h) D^{(n)}``.  UniPC keeps
the first term with the current estimate D and writes the rest as ``alpha' B(h) sum_m rho_m D_m`` with
divided differences ``D_m = (D(lambda + r_m h) - D) / r_m``, choosing the rho so that the first p Taylor
terms match: ``sum_m rho_m r_m^(n-1) = n! h phi_{n+1}(h) / B(h)``, n = 1..p.  The predictor (UniP) uses
earlier points (r_m < 0); the corrector (UniC) adds the estimate at the new point (r = 1), evaluated at
the predicted x, which is kept as the next step's D (no extra model call).  ``B(h) = h`` is "bh1",
``B(h) = 1 - e^{-h}`` "bh2".  A single unknown (order-2 predictor, order-1 corrector) takes the limit
value 1/2 instead of the solution, which is where bh1 and bh2 differ at low order.

How the steps are laid out (ComfyUI's port):
- a final sigma of 0 becomes 0.001; the last step goes there with order 1, no corrector and no model
  call, and the result is divided by the alpha of that last sigma;
- the order is at most ``min(3, steps - 1)``; step k (1-based) uses order k while k is below it, then
  ``min(order, steps + 1 - k)`` (so the last two steps are order 2 and 1);
- alpha, std, lambda, h, the phi's, B(h) and the rho's are float32 as ComfyUI computes them: at sigma
  0.001 float32 rounding in ``1 - alpha^2`` gives std 0.00098 (lambda 6.93, not 6.91), and following
  that keeps the result within ~4e-7 of ComfyUI's instead of ~5e-6.
With one step ComfyUI takes no step at all (order 0) and returns the scaled start; here a one-step
schedule is a single first-order step (``x = denoised`` when it ends at 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from ._common import Denoiser, Run, SamplerExtras

__all__ = ["uni_pc", "uni_pc_bh2"]

# what replaces a final sigma of 0 (lambda would be infinite there)
_FINAL_SIGMA = 0.001


class _Level(NamedTuple):
    """A noise level in the VP form, as float32 scalars."""

    sigma: torch.Tensor
    alpha: torch.Tensor
    std: torch.Tensor
    lam: torch.Tensor


def _level(sigma: float) -> _Level:
    """alpha, std and lambda of ``sigma`` from log alpha = log(1 / (sigma^2 + 1)) / 2 and
    std = sqrt(1 - alpha^2), in float32 (ComfyUI's formulas, rounding included)."""
    s = torch.tensor(sigma, dtype=torch.float32)
    log_alpha = 0.5 * torch.log(1 / (s * s + 1))
    one_minus_alpha2 = 1.0 - torch.exp(2.0 * log_alpha)
    return _Level(s, torch.exp(log_alpha), torch.sqrt(one_minus_alpha2), log_alpha - 0.5 * torch.log(one_minus_alpha2))


def _b_bh1(hh: torch.Tensor) -> torch.Tensor:
    return hh


def _b_bh2(hh: torch.Tensor) -> torch.Tensor:
    return torch.expm1(hh)


def _update(
    x: torch.Tensor,
    hist: list[tuple[_Level, torch.Tensor]],
    target: _Level,
    order: int,
    b_of_hh: Callable[[torch.Tensor], torch.Tensor],
    evaluate: Callable[[torch.Tensor], torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One UniPC step of ``order`` from the newest level in ``hist`` (levels with their D, oldest first)
    to ``target``; with ``evaluate`` (D at the target for a VP x) the corrector runs too.  Returns the new
    x_vp and the D evaluated at the predicted x (None without the corrector)."""
    level, current = hist[-1]
    h = target.lam - level.lam
    rks: list[torch.Tensor] = []
    diffs: list[torch.Tensor] = []
    for older, estimate in reversed(hist[-order:-1]):  # newest first
        r = (older.lam - level.lam) / h
        rks.append(r)
        diffs.append((estimate - current) / r)
    rks_all = torch.stack([*rks, torch.tensor(1.0)])

    # data prediction integrates in -h: hh phi_1(hh) = e^hh - 1 and B(hh) is negative like hh
    hh = -h
    h_phi_1 = torch.expm1(hh)
    b_h = b_of_hh(hh)
    rhs: list[torch.Tensor] = []
    h_phi_k = h_phi_1 / hh - 1.0  # hh phi_2(hh)
    factorial = 1
    for n in range(1, order + 1):
        rhs.append(h_phi_k * factorial / b_h)
        factorial *= n + 1
        h_phi_k = h_phi_k / hh - 1.0 / factorial  # hh phi_{n+2}(hh)
    powers = torch.stack([rks_all**n for n in range(order)])  # powers[n, m] = r_m^n
    rhs_t = torch.stack(rhs)

    base = (target.std / level.std) * x - (target.alpha * h_phi_1) * current
    x_new = base
    if diffs:
        rhos_p = torch.tensor([0.5]) if order == 2 else torch.linalg.solve(powers[:-1, :-1], rhs_t[:-1])
        x_new = base - (target.alpha * b_h) * sum(rho * d for rho, d in zip(rhos_p, diffs, strict=False))
    if evaluate is None:
        return x_new, None

    new = evaluate(x_new)
    rhos_c = torch.tensor([0.5]) if order == 1 else torch.linalg.solve(powers, rhs_t)
    correction = rhos_c[-1] * (new - current)
    if diffs:
        correction = sum(rho * d for rho, d in zip(rhos_c[:-1], diffs, strict=False)) + correction
    return base - (target.alpha * b_h) * correction, new


def _unipc(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra: SamplerExtras | None,
    b_of_hh: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    run = Run(denoise, x, sigmas, extra)
    steps = run.steps
    if steps < 2:  # see the module docstring
        return run.walk(x, lambda i, x, d, s, s_next: d + (x - d) * (s_next / s))
    levels = [_level(s) for s in run.sigmas[:-1]]
    levels.append(_level(run.sigmas[-1] if run.sigmas[-1] > 0 else _FINAL_SIGMA))
    max_order = min(3, steps - 1)

    def data(x_vp: torch.Tensor, k: int) -> torch.Tensor:
        """D at sigma k for a VP x (the network sees the VE x = x_vp * sqrt(sigma^2 + 1))."""
        s = levels[k].sigma
        return run.denoise(x_vp * torch.sqrt(s * s + 1.0), run.sigmas[k])

    x = x / torch.sqrt(1.0 + levels[0].sigma ** 2)
    hist = [(levels[0], data(x, 0))]
    for k in range(1, steps + 1):
        target = levels[k]
        order = k if k < max_order else min(max_order, steps + 1 - k)
        evaluate = None if k == steps else (lambda x_vp, k=k: data(x_vp, k))
        x, new = _update(x, hist, target, order, b_of_hh, evaluate)
        if new is not None:
            hist = ([*hist, (target, new)])[-max_order:]
        run.report(k - 1, x / target.alpha, hist[-1][1])
    return x / levels[-1].alpha


@torch.no_grad()
def uni_pc(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """UniPC with B(h) = h ("bh1"), order up to 3, predictor + corrector on every step but the last."""
    return _unipc(denoise, x, sigmas, extra, _b_bh1)


@torch.no_grad()
def uni_pc_bh2(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """UniPC with B(h) = 1 - e^{-h} ("bh2"), order up to 3, predictor + corrector but on the last step."""
    return _unipc(denoise, x, sigmas, extra, _b_bh2)

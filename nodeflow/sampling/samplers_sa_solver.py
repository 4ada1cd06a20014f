"""SA-Solver (Xue et al. 2023): stochastic Adams predictor-corrector in data prediction.

With ``lambda = -log sigma`` and noise strength ``tau``, the SDE step from ``lambda_s`` to
``lambda_t`` (``h = lambda_t - lambda_s``) is solved as

    x_t = (sigma_t / sigma_s) e^{-tau^2 h} x_s + sum_j b_j D_j
          + sigma_t sqrt(1 - e^{-2 tau^2 h}) z,
    b_j = (1 + tau^2) int_{lambda_s}^{lambda_t} e^{(1 + tau^2)(u - lambda_t)} L_j(u) du,

where the ``L_j`` are the Lagrange basis polynomials through the lambdas of the x0 estimates
``D_j`` used (Adams-Bashforth style for the predictor, through the new point as well for the
corrector).  Each step: evaluate D at the predicted state, correct the previous step with it
(reusing the predictor's noise), then predict the next state.  Near the end of a schedule that
finishes at 0 the orders drop so the last steps use only the points they have.  ``tau`` is
``extra.eta`` while the next sigma lies between the sigmas at 20% and 80% of the model's
timesteps, else 0 (ODE).  Noise: the seed+1 generator via ``run.noise``, once per noisy step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ._common import Denoiser, Run, SamplerExtras, lam
from .flow_sde import in_half_log_snr
from .schedules import DiscreteSchedule

__all__ = ["sa_solver", "sa_solver_pece", "stochastic_adams_weights"]

_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(16)


def stochastic_adams_weights(nodes: Sequence[float], lam_s: float, lam_t: float, tau: float) -> list[float]:
    """The ``b_j`` above for Lagrange nodes ``nodes`` (lambdas, oldest first).

    Gauss-Legendre with 16 points: exact for the polynomial part, and the exponential factor
    is smooth over a step, so the result is accurate to rounding."""
    k = 1.0 + tau * tau
    half = 0.5 * (lam_t - lam_s)
    u = half * _GAUSS_NODES + 0.5 * (lam_s + lam_t)
    measure = k * np.exp(k * (u - lam_t)) * (half * _GAUSS_WEIGHTS)
    weights = []
    for j, node_j in enumerate(nodes):
        basis = np.ones_like(u)
        for m, node_m in enumerate(nodes):
            if m != j:
                basis = basis * ((u - node_m) / (node_j - node_m))
        weights.append(float(np.sum(measure * basis)))
    return weights


def _combine(x: torch.Tensor, scale: float, weights: list[float], estimates: Sequence[torch.Tensor]) -> torch.Tensor:
    out = x * scale
    for w, d in zip(weights, estimates, strict=False):
        out = out + d * w
    return out


def _sa_solver(run: Run, x: torch.Tensor, predictor_order: int, corrector_order: int, pece: bool) -> torch.Tensor:
    sig = run.sigmas
    if run.steps == 0:
        return x
    schedule = run.extra.schedule or DiscreteSchedule.sd()
    tau_high, tau_low = schedule.percent_to_sigma(0.2), schedule.percent_to_sigma(0.8)
    eta, s_noise = run.extra.eta, run.extra.s_noise

    def tau_at(sigma: float) -> float:
        return eta if eta > 0 and tau_high >= sigma >= tau_low else 0.0

    lams = [lam(s) if s > 0 else math.inf for s in sig]
    to_end = sig[-1] == 0  # then the orders drop over the last steps
    keep = max(predictor_order, corrector_order)
    history: list[torch.Tensor] = []  # x0 estimates at sig[i - n + 1 .. i]
    x_pred = x_cur = x
    tau, h = 0.0, 0.0
    noise: torch.Tensor | None = None  # the last predictor's noise

    for i in range(run.steps):
        denoised = run.denoise(x_pred, sig[i])
        history = ([*history, denoised])[-keep:]
        p_order = min(predictor_order, len(history))
        c_order = 0 if i == 0 or (sig[i + 1] == 0 and not pece) else min(corrector_order, len(history))
        if to_end:
            p_order = min(p_order, run.steps - 1 - i)
            c_order = min(c_order, run.steps - i)

        if c_order == 0:
            x_cur = x_pred
        else:  # redo the last step with the new estimate among the nodes
            weights = stochastic_adams_weights(lams[i - c_order + 1 : i + 1], lams[i - 1], lams[i], tau)
            x_cur = _combine(x_cur, sig[i] / sig[i - 1] * math.exp(-tau * tau * h), weights, history[-c_order:])
            if noise is not None:
                x_cur = x_cur + noise
            if pece:
                denoised = run.denoise(x_cur, sig[i])
                history[-1] = denoised

        if sig[i + 1] == 0:
            x_pred = denoised
        else:
            tau = tau_at(sig[i + 1])
            h = lams[i + 1] - lams[i]
            weights = stochastic_adams_weights(lams[i - p_order + 1 : i + 1], lams[i], lams[i + 1], tau)
            x_pred = _combine(x_cur, sig[i + 1] / sig[i] * math.exp(-tau * tau * h), weights, history[-p_order:])
            noise = None
            if tau > 0 and s_noise > 0:
                size = sig[i + 1] * math.sqrt(-math.expm1(-2.0 * tau * tau * h)) * s_noise
                noise = run.noise(sig[i], sig[i + 1]) * size
                x_pred = x_pred + noise
        run.report(i, x_pred, denoised)
    return x_pred


@torch.no_grad()
@in_half_log_snr()
def sa_solver(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    predictor_order: int = 3,
    corrector_order: int = 4,
) -> torch.Tensor:
    """SA-Solver, predictor order 3 and corrector order 4 (the corrector reuses each model
    evaluation, so one evaluation per step)."""
    return _sa_solver(Run(denoise, x, sigmas, extra), x, predictor_order, corrector_order, False)


@torch.no_grad()
@in_half_log_snr()
def sa_solver_pece(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    predictor_order: int = 3,
    corrector_order: int = 4,
) -> torch.Tensor:
    """SA-Solver in PECE mode: the corrected state is evaluated again and that estimate
    replaces the predicted one (two evaluations per step, the last step corrected too)."""
    return _sa_solver(Run(denoise, x, sigmas, extra), x, predictor_order, corrector_order, True)

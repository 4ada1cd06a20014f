"""Samplers that combine several slopes ``dx/dsigma = (x - D) / sigma`` of the probability-flow
ODE into one Euler-like step in sigma: Heun++ (looks two steps ahead), iPNDM-v (variable-step
Adams-Bashforth on earlier slopes) and gradient estimation (extrapolates the slope from the
previous one).
"""

from __future__ import annotations

import torch

from ._common import Denoiser, Run, SamplerExtras, needs_uncond, slope

__all__ = ["gradient_estimation", "gradient_estimation_cfg_pp", "heunpp2", "ipndm_v"]


@torch.no_grad()
def heunpp2(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Heun++ (from Carzit's sd-webui-samplers-scheduler, as in ComfyUI): the step's slope is a
    weighted mean of the slopes at sigma, at an Euler predictor at the next sigma and at one more
    Euler predictor a further step on, weighted by those sigmas over ``3 * sigmas[0]`` (two
    slopes and ``2 * sigmas[0]`` when the next-but-one sigma is the last; Euler for the last step).
    """
    run = Run(denoise, x, sigmas, extra)
    first, last = run.sigmas[0], run.sigmas[-1]

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        d = slope(x, denoised, s)
        x_next = x + d * (s_next - s)
        if s_next == last:
            return x_next
        d_next = slope(x_next, run.denoise(x_next, s_next), s_next)
        s_after = run.sigmas[i + 2]
        if s_after == last:
            w_next = s_next / (2.0 * first)
            mean = d * (1.0 - w_next) + d_next * w_next
        else:
            x_after = x_next + d_next * (s_after - s_next)
            d_after = slope(x_after, run.denoise(x_after, s_after), s_after)
            w_next, w_after = s_next / (3.0 * first), s_after / (3.0 * first)
            mean = d * (1.0 - w_next - w_after) + d_next * w_next + d_after * w_after
        return x + mean * (s_next - s)

    return run.walk(x, step)


def _ipndm_v_weights(h: list[float]) -> list[float]:
    """Weights of the newest-first slopes for iPNDM-v, ``h = [h_n, h_n-1, ...]`` the step sizes in
    sigma (newest first, as many as slopes).

    These are the variable-step coefficients of the diff-solvers reference that ComfyUI runs,
    kept exactly so the numbers match ComfyUI, though they are not exact Adams-Bashforth: the
    order-3 term groups as ``1/2 - h_n^2 / (6 h_n-1 (h_n-1 + h_n-2))`` (AB3 only for equal
    steps) and on equal steps the order-4 weights are 57, -65, 43, -11 over 24 (AB4: 55, -59,
    37, -9).
    """
    if len(h) == 1:
        return [1.0]
    h0, h1 = h[0], h[1]
    r = h0 / h1
    w = [1.0 + r / 2.0, -r / 2.0]
    if len(h) == 2:
        return w
    h2 = h[2]
    a = 0.5 - h0 * h0 / (6.0 * h1 * (h1 + h2))
    w = [w[0] + a, w[1] - (1.0 + h1 / h2) * a, a * h1 / h2]
    if len(h) == 3:
        return w
    h3 = h[3]
    b = (
        ((1.0 - h0 / (3.0 * (h0 + h1))) / 2.0 + (1.0 - h0 / (2.0 * (h0 + h1))) * h0 / (6.0 * (h0 + h1 + h2)))
        * (h0 * (h0 + h1) * (h0 + h1 + h2))
        / (h1 * (h1 + h2) * (h1 + h2 + h3))
    )
    q = h1 * (h1 + h2) / (h2 * (h2 + h3))
    return [w[0] + b, w[1] - (1.0 + h1 / h2 + q) * b, w[2] + (h1 / h2 + q * (1.0 + h2 / h3)) * b, -b * q * h1 / h2]


@torch.no_grad()
def ipndm_v(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, order: int = 4
) -> torch.Tensor:
    """Improved pseudo-numerical method with variable steps (Zhang & Chen 2023 iPNDM,
    variable-step form of zju-pi's diff-solvers): Adams-Bashforth on dx/dsigma with weights from
    the actual step sizes, up to ``order`` slopes."""
    run = Run(denoise, x, sigmas, extra)
    slopes: list[torch.Tensor] = []  # newest first

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal slopes
        slopes = [slope(x, denoised, s), *slopes[: order - 1]]
        steps = [run.sigmas[i + 1 - k] - run.sigmas[i - k] for k in range(len(slopes))]
        weights = _ipndm_v_weights(steps)
        return x + sum(w * d for w, d in zip(weights, slopes, strict=False)) * (s_next - s)

    return run.walk(x, step)


def _gradient_estimation_walk(run: Run, x: torch.Tensor, ge_gamma: float, cfg_pp: bool) -> torch.Tensor:
    old: torch.Tensor | None = None

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        nonlocal old
        d = slope(x, run.uncond() if cfg_pp else denoised, s)
        x = denoised + d * s_next if cfg_pp else x + d * (s_next - s)
        if old is not None:
            x = x + (d - old) * ((ge_gamma - 1.0) * (s_next - s))
        old = d
        return x

    return run.walk(x, step)


@torch.no_grad()
def gradient_estimation(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    ge_gamma: float = 2.0,
) -> torch.Tensor:
    """Gradient estimation (Permenter & Yuan 2023, "Interpreting and improving diffusion models
    from an optimization perspective"): Euler with the slope ``d + (ge_gamma - 1) (d - d_prev)``
    from the second step on (``ge_gamma`` 2 is ComfyUI's default)."""
    return _gradient_estimation_walk(Run(denoise, x, sigmas, extra), x, ge_gamma, cfg_pp=False)


@needs_uncond
@torch.no_grad()
def gradient_estimation_cfg_pp(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    extra: SamplerExtras | None = None,
    ge_gamma: float = 2.0,
) -> torch.Tensor:
    """Gradient estimation with CFG++: the slopes use the unconditional estimate and the Euler
    part jumps to ``D + sigma' (x - U) / sigma``."""
    return _gradient_estimation_walk(Run(denoise, x, sigmas, extra), x, ge_gamma, cfg_pp=True)

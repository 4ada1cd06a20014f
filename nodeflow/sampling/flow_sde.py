"""The SDE samplers on rectified-flow models, in half-log-SNR time (ComfyUI's CONST branches).

A flow model has ``x = (1 - s) x0 + s n``: signal scale ``alpha = 1 - s``, noise ``s`` and half-log-SNR
``lambda = log((1 - s) / s)``.  ComfyUI's SDE-type samplers (DPM-Solver++ SDE / 2M / 3M SDE, ER-SDE,
SEEDS, SA-Solver, Euler CFG++) take ``lambda`` from that formula on such a model, start a schedule that
begins at sigma 1 (lambda = -inf) at ``percent_to_sigma(1e-4)`` instead, and scale each data term and
each fresh noise by ``alpha`` of the sigma it lands on.  Every one of those formulas is the
variance-exploding sampler written in the scaled variables

    x_ve = x / (1 - s),   sigma_ve = s / (1 - s) = e^{-lambda}

(then ``x_ve = x0 + sigma_ve n``), multiplied back by ``1 - s'`` at the end of each step: e.g. the
DPM-Solver++(2M) SDE step ``x' = (s'/s) e^{-eta h} x + alpha' (1 - e^{-(1+eta) h}) D + s' sqrt(1 - e^{-2 eta h}) z``
is ``alpha'`` times the VE step on ``x / alpha``.  So :func:`in_half_log_snr` runs NodeFlow's VE sampler
unchanged on those variables: the network is still called at the flow sigma (the VE one mapped back),
the noise source is still asked for flow sigmas (the Brownian tree spans the flow schedule, as
ComfyUI's does), and the step callback sees the flow ``x``.  Models of the VE families never reach
this code: the wrapper only acts when ``extra.flow``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import torch

from ._common import SamplerExtras
from .brownian import with_brownian_noise

__all__ = ["in_half_log_snr", "offset_first_sigma", "to_flow", "to_ve"]

FIRST_SIGMA_OFFSET = 1e-4  # ComfyUI's offset_first_sigma_for_snr: a schedule at sigma 1 starts here


def to_ve(s: float) -> float:
    """sigma_ve = s / (1 - s) = e^{-lambda} (0 stays 0)."""
    return s / (1.0 - s) if s > 0 else 0.0


def to_flow(v: float) -> float:
    """The flow sigma of a VE one: v / (1 + v)."""
    return v / (1.0 + v) if v > 0 else 0.0


def _f32(value: float) -> float:
    return float(torch.tensor(value, dtype=torch.float32))


def offset_first_sigma(sigmas: list[float], schedule) -> list[float]:
    """A schedule starting at sigma >= 1 (infinite noise-to-signal) starts at ``percent_to_sigma(1e-4)``."""
    if len(sigmas) > 1 and sigmas[0] >= 1.0:
        first = schedule.percent_to_sigma(FIRST_SIGMA_OFFSET) if schedule is not None else 1.0 - FIRST_SIGMA_OFFSET
        return [_f32(first), *sigmas[1:]]  # stored as a float32 sigma
    return sigmas


class _VeView:
    """The flow schedule as a VE one, for samplers that read ``percent_to_sigma`` (SA-Solver's
    noisy interval): comparisons keep their order because s -> s / (1 - s) is increasing."""

    prediction = "eps"

    def __init__(self, schedule) -> None:
        self.schedule = schedule

    def percent_to_sigma(self, percent: float) -> float:
        return to_ve(self.schedule.percent_to_sigma(percent))


class _VeDenoiser:
    """``denoise`` seen from the VE variables: x_ve -> x = (1 - s) x_ve at the flow sigma s."""

    def __init__(self, denoise, flow_of: Callable[[float], float]) -> None:
        self.denoise = denoise
        self.flow_of = flow_of

    @property
    def last_uncond(self):  # CFG++ samplers step along the unconditional estimate (an x0, the same in both)
        return getattr(self.denoise, "last_uncond", None)

    def __call__(self, x_ve: torch.Tensor, sigma_ve: torch.Tensor) -> torch.Tensor:
        s = self.flow_of(float(sigma_ve.reshape(-1)[0]))
        return self.denoise(x_ve * (1.0 - s), torch.full_like(sigma_ve, s))


def in_half_log_snr(brownian: bool = False):
    """Decorator for a VE sampler ``fn(denoise, x, sigmas, *, extra, **options)``: on a flow model
    (``extra.flow``) it runs in the scaled variables described in the module docstring. ``brownian``:
    the sampler draws its noise from a Brownian tree, built here over the flow sigmas (its
    ``on_device`` option chooses the tree's device, as for the VE run)."""

    def wrap(fn):
        @functools.wraps(fn)
        def sampler(denoise, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None, **options):
            if extra is None or not extra.flow:
                return fn(denoise, x, sigmas, extra=extra, **options)
            return _run_on_flow(fn, denoise, x, sigmas, extra, options, brownian)

        return sampler

    return wrap


def _run_on_flow(fn, denoise, x, sigmas, extra: SamplerExtras, options: dict, brownian: bool) -> torch.Tensor:
    flow = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]
    if len(flow) <= 1:
        return x
    if brownian:  # the tree spans the flow schedule before the offset, as ComfyUI builds it
        extra = with_brownian_noise(extra, x, torch.tensor(flow), on_device=bool(options.get("on_device", False)))
    flow = offset_first_sigma(flow, extra.schedule)
    if any(s >= 1.0 for s in flow[1:]):
        raise ValueError(
            f"{getattr(fn, '__name__', 'sampler')}: a rectified-flow model's sigmas must stay below 1 after the "
            f"first (got {max(flow[1:])}); check the custom sigmas"
        )
    ve = [to_ve(s) for s in flow]
    # schedule points map back exactly (also from the float32 sigma tensor a Run hands the denoiser);
    # sigmas in between (a solver's midpoints) by the formula
    back = {_f32(v): s for v, s in zip(ve, flow, strict=True)}

    def flow_of(v: float) -> float:
        return back.get(_f32(v), to_flow(v))

    noise = extra.noise
    callback = extra.callback
    inner = dataclasses.replace(
        extra,
        schedule=_VeView(extra.schedule) if extra.schedule is not None else None,
        noise=(lambda v, v_next: noise(flow_of(v), flow_of(v_next))) if noise is not None else None,
        callback=(lambda i, x_ve, d, n: callback(i, x_ve * (1.0 - flow[min(i + 1, len(flow) - 1)]), d, n))
        if callback is not None
        else None,
    )
    out = fn(
        _VeDenoiser(denoise, flow_of),
        x / (1.0 - flow[0]),
        torch.tensor(ve, dtype=torch.float64),
        extra=inner,
        **options,
    )
    return out * (1.0 - flow[-1])

"""Discrete noise schedules and the sigma schedulers built on them.

A :class:`DiscreteSchedule` holds the 1000 training noise levels of a
discrete-time diffusion model.  Noise levels are expressed as ``sigma`` in the
variance-exploding parameterisation ``x = x0 + sigma * noise`` where
``sigma_t = sqrt((1 - alpha_cumprod_t) / alpha_cumprod_t)``.

Every scheduler returns a float32 tensor of ``steps + 1`` decreasing sigmas
ending in 0 (``ddim_uniform`` and ``beta`` may differ by one or drop repeats,
as documented on each).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "SCHEDULERS",
    "SCHEDULER_NAMES",
    "DiscreteSchedule",
    "beta_cdf",
    "beta_ppf",
    "beta_scheduler",
    "calculate_sigmas",
    "ddim_uniform_scheduler",
    "exponential_scheduler",
    "karras_scheduler",
    "kl_optimal_scheduler",
    "linear_quadratic_scheduler",
    "normal_scheduler",
    "sd_turbo_sigmas",
    "sgm_uniform_scheduler",
    "simple_scheduler",
    "split_for_denoise",
]


class DiscreteSchedule:
    """The noise levels of a model trained on ``len(alphas_cumprod)`` discrete timesteps."""

    def __init__(self, alphas_cumprod: torch.Tensor) -> None:
        ac = torch.as_tensor(alphas_cumprod, dtype=torch.float64).flatten()
        if ac.numel() < 2:
            raise ValueError("alphas_cumprod needs at least two entries")
        self.alphas_cumprod = ac
        sigmas64 = ((1.0 - ac) / ac).sqrt()
        self.sigmas = sigmas64.to(torch.float32)
        # as ComfyUI: the logs of the float64 sigmas rounded to float32 (not the logs of the
        # float32 sigmas); sigma(t) interpolates these in float32
        self.log_sigmas = sigmas64.log().to(torch.float32)
        # the fractional timestep() inverts in float64 on the logs of the float32 sigmas, so
        # the stored sigmas map onto whole timesteps exactly
        self._log64 = self.sigmas.to(torch.float64).log()
        self.sigma_min = float(self.sigmas[0])
        self.sigma_max = float(self.sigmas[-1])

    @classmethod
    def sd(cls, linear_start: float = 0.00085, linear_end: float = 0.012, steps: int = 1000) -> DiscreteSchedule:
        """The "scaled linear" beta schedule of Stable Diffusion 1.x/2.x/XL."""
        betas = torch.linspace(math.sqrt(linear_start), math.sqrt(linear_end), steps, dtype=torch.float64) ** 2
        return cls(torch.cumprod(1.0 - betas, dim=0))

    @property
    def num_timesteps(self) -> int:
        return int(self.sigmas.shape[0])

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """Fractional timestep of each sigma (log-sigma interpolation), clamped to [0, T-1]."""
        sigma = torch.as_tensor(sigma)
        out_dtype = sigma.dtype if sigma.is_floating_point() else torch.float32
        logs = self._log64
        ls = sigma.to(torch.float64).clamp(min=1e-300).log().clamp(float(logs[0]), float(logs[-1]))
        high = torch.searchsorted(logs, ls.reshape(-1)).reshape(ls.shape)
        high = high.clamp(1, logs.shape[0] - 1)
        low = high - 1
        l_lo, l_hi = logs[low], logs[high]
        w = ((ls - l_lo) / (l_hi - l_lo)).clamp(0.0, 1.0)
        t = (low.to(torch.float64) + w).clamp(0.0, float(logs.shape[0] - 1))
        return t.to(out_dtype)

    def nearest_timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The timestep the network is given for ``sigma``: the index of the nearest training sigma
        in log space, as a whole number (ComfyUI's discrete models do not interpolate here)."""
        sigma = torch.as_tensor(sigma)
        out_dtype = sigma.dtype if sigma.is_floating_point() else torch.float32
        distance = (
            sigma.to(torch.float32).clamp(min=1e-30).log().reshape(-1, 1) - self.log_sigmas.reshape(1, -1)
        ).abs()
        return distance.argmin(dim=1).reshape(sigma.shape).to(out_dtype)

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """Sigma at (fractional) timesteps ``t``: log sigma is linear between integers.

        Computed in float32 exactly as ComfyUI's discrete model sampling does, so schedules
        built on it are bit-identical (SDE samplers' Brownian noise depends on exact sigmas);
        at whole timesteps this can differ from ``sigmas`` in the last bit."""
        t = torch.as_tensor(t).to(torch.float32).clamp(0.0, float(self.num_timesteps - 1))
        low = t.floor().long()
        high = t.ceil().long()
        w = t.frac()
        ls = (1.0 - w) * self.log_sigmas[low] + w * self.log_sigmas[high]
        return ls.exp()

    def percent_to_sigma(self, percent: float) -> float:
        """Sigma reached after ``percent`` of the sampling process (0 -> huge, 1 -> 0)."""
        if percent <= 0.0:
            return 999999999.9
        if percent >= 1.0:
            return 0.0
        t = (1.0 - percent) * (self.num_timesteps - 1)
        return float(self.sigma(torch.tensor(t)))


def _finish(values) -> torch.Tensor:
    """Append the terminal 0 and return a float32 tensor."""
    t = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    return torch.cat([t, t.new_zeros(1)]).to(torch.float32)


def normal_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Timesteps evenly spaced from the first to the last training step."""
    start = float(schedule.timestep(torch.tensor(schedule.sigma_max)))
    end = float(schedule.timestep(torch.tensor(schedule.sigma_min)))
    t = torch.linspace(start, end, steps, dtype=torch.float32)
    return _finish(schedule.sigma(t))


def sgm_uniform_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Like ``normal`` but spaced over ``steps + 1`` points, the last one dropped."""
    start = float(schedule.timestep(torch.tensor(schedule.sigma_max)))
    end = float(schedule.timestep(torch.tensor(schedule.sigma_min)))
    t = torch.linspace(start, end, steps + 1, dtype=torch.float32)[:-1]
    return _finish(schedule.sigma(t))


def simple_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Every ``T/steps``-th training sigma counted from the top."""
    stride = schedule.num_timesteps / steps
    return _finish([float(schedule.sigmas[-(1 + int(i * stride))]) for i in range(steps)])


def karras_scheduler(schedule: DiscreteSchedule, steps: int, rho: float = 7.0) -> torch.Tensor:
    """Karras et al. (2022) eq. 5: evenly spaced in ``sigma ** (1/rho)``."""
    hi = schedule.sigma_max ** (1.0 / rho)
    lo = schedule.sigma_min ** (1.0 / rho)
    ramp = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
    return _finish((hi + ramp * (lo - hi)) ** rho)


def exponential_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Evenly spaced in log sigma."""
    ls = torch.linspace(math.log(schedule.sigma_max), math.log(schedule.sigma_min), steps, dtype=torch.float64)
    return _finish(ls.exp())


def ddim_uniform_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Training sigmas at indices ``1, 1+c, 1+2c, ...`` (c = T // steps), largest first.

    The number of sigmas before the final 0 can be ``steps`` or ``steps + 1``.
    """
    stride = max(1, schedule.num_timesteps // steps)
    idx = list(range(1, schedule.num_timesteps, stride))[::-1]
    return _finish(schedule.sigmas[idx].to(torch.float64))


# --- Beta(a, b) distribution quantiles, written without scipy -----------------------------


def _beta_cf(x: float, a: float, b: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz evaluation)."""
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        # even term d_{2m}, then odd term d_{2m+1}
        for coef in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 + coef * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + coef / c
            c = c if abs(c) > tiny else tiny
            delta = c * d
            f *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return f


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularised incomplete beta function I_x(a, b) (the Beta(a, b) CDF)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_cf(1.0 - x, b, a) / b


def beta_ppf(q: float, a: float, b: float, tol: float = 1e-13) -> float:
    """Inverse of :func:`beta_cdf` in x, by bisection (the CDF is monotone)."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    if a == b and q == 0.5:
        return 0.5  # the median of a symmetric Beta is exact (matters when rounding ties)
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if beta_cdf(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def beta_scheduler(schedule: DiscreteSchedule, steps: int, alpha: float = 0.6, beta: float = 0.6) -> torch.Tensor:
    """Timesteps at the Beta(alpha, beta) quantiles (dense at both ends), repeats dropped."""
    last = schedule.num_timesteps - 1
    quantiles = 1.0 - np.linspace(0.0, 1.0, steps, endpoint=False)
    picked: list[int] = []
    for q in quantiles:
        t = int(np.rint(beta_ppf(float(q), alpha, beta) * last))
        if not picked or picked[-1] != t:
            picked.append(t)
    return _finish(schedule.sigmas[picked].to(torch.float64))


def linear_quadratic_scheduler(
    schedule: DiscreteSchedule, steps: int, threshold_noise: float = 0.025, linear_steps: int | None = None
) -> torch.Tensor:
    """Mochi's schedule as ComfyUI has it: fractions of ``sigma_max``, first falling linearly to
    ``1 - threshold_noise`` over ``linear_steps`` (default ``steps // 2``) steps, then along a quadratic
    that continues with the same slope and reaches 0 at the last step."""
    if steps == 1:
        done = [0.0, 1.0]
    else:
        linear_steps = steps // 2 if linear_steps is None else linear_steps
        quadratic_steps = steps - linear_steps
        # the quadratic q(i) = a i^2 + b i + c on [linear_steps, steps] meets the line in value and
        # slope at i = linear_steps and q(steps) = 1
        excess = linear_steps - threshold_noise * steps
        a = excess / (linear_steps * quadratic_steps**2)
        b = threshold_noise / linear_steps - 2 * excess / quadratic_steps**2
        c = a * linear_steps**2
        done = (
            [i * threshold_noise / linear_steps for i in range(linear_steps)]
            + [a * i * i + b * i + c for i in range(linear_steps, steps)]
            + [1.0]
        )
    # float32 fractions times the float32 sigma_max, as ComfyUI multiplies them
    fractions = torch.tensor([1.0 - d for d in done], dtype=torch.float32)
    return fractions * torch.tensor(schedule.sigma_max, dtype=torch.float32)


def kl_optimal_scheduler(schedule: DiscreteSchedule, steps: int) -> torch.Tensor:
    """Steps uniform in arctan(sigma) (the KL-optimal schedule of "Align Your Steps")."""
    t = torch.linspace(0, 1, steps, dtype=torch.float64)
    lo, hi = math.atan(schedule.sigma_min), math.atan(schedule.sigma_max)
    return _finish(torch.tan(t * lo + (1 - t) * hi))


SCHEDULERS: dict[str, Callable[[DiscreteSchedule, int], torch.Tensor]] = {
    "normal": normal_scheduler,
    "karras": karras_scheduler,
    "exponential": exponential_scheduler,
    "sgm_uniform": sgm_uniform_scheduler,
    "simple": simple_scheduler,
    "ddim_uniform": ddim_uniform_scheduler,
    "beta": beta_scheduler,
    "linear_quadratic": linear_quadratic_scheduler,
    "kl_optimal": kl_optimal_scheduler,
}
SCHEDULER_NAMES: list[str] = list(SCHEDULERS)


def calculate_sigmas(schedule: DiscreteSchedule, name: str, steps: int) -> torch.Tensor:
    """Sigmas of scheduler ``name`` for ``steps`` steps (ValueError for an unknown name)."""
    fn = SCHEDULERS.get(name)
    if fn is None:
        raise ValueError(f"unknown scheduler {name!r}; valid choices: {', '.join(SCHEDULER_NAMES)}")
    if steps < 1:
        return torch.zeros(0, dtype=torch.float32)
    return fn(schedule, int(steps))


def sd_turbo_sigmas(schedule: DiscreteSchedule, steps: int, denoise: float) -> torch.Tensor:
    """SD-Turbo schedule: timesteps 999, 899, ..., 99 starting at the denoise strength."""
    start = 10 - int(10 * denoise)
    timesteps = torch.flip(torch.arange(1, 11) * 100 - 1, (0,))[start : start + steps]
    return _finish(schedule.sigma(timesteps.to(torch.float64)).to(torch.float64))


def split_for_denoise(schedule: DiscreteSchedule, name: str, steps: int, denoise: float) -> torch.Tensor:
    """The tail of a longer schedule, so that only ``denoise`` of the way is sampled."""
    if denoise >= 0.9999:
        return calculate_sigmas(schedule, name, steps)
    if denoise <= 0.0:
        return torch.zeros(0, dtype=torch.float32)
    total = int(steps / denoise)
    return calculate_sigmas(schedule, name, total)[-(steps + 1) :]

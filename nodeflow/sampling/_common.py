"""Shared pieces of the samplers: extras, noise, ancestral split and small numerics.

Conventions used throughout: ``x = x0 + sigma * noise`` (variance exploding),
``denoise(x, sigma)`` returns the model's estimate of ``x0`` and
``lambda = -log(sigma)`` is the half log signal-to-noise ratio.  Between two noise
levels with a constant ``x0`` estimate ``D`` the probability-flow ODE is solved
exactly by ``x' = (sigma'/sigma) * x + (1 - sigma'/sigma) * D``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .schedules import DiscreteSchedule

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
NoiseFn = Callable[[float, float], torch.Tensor]
Callback = Callable[[int, torch.Tensor, torch.Tensor, int], None]


@dataclass
class SamplerExtras:
    """Optional inputs shared by every sampler."""

    noise: NoiseFn | None = None
    seed: int = 0
    callback: Callback | None = None
    eta: float = 1.0
    s_noise: float = 1.0
    schedule: DiscreteSchedule | None = None  # or a FlowSchedule

    @property
    def flow(self) -> bool:
        """Whether the model is a rectified-flow one (its ancestral noise is added differently)."""
        return getattr(self.schedule, "prediction", None) == "flow"


# one step of a sampler: (i, x, denoised, sigma, sigma_next) -> x at sigma_next
Step = Callable[[int, torch.Tensor, torch.Tensor, float, float], torch.Tensor]


class Run:
    """Per-call state: sigma values as floats, the noise source and the callback."""

    def __init__(self, denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, extra: SamplerExtras | None) -> None:
        self.extra = extra if extra is not None else SamplerExtras()
        self.model = denoise
        self.sigmas = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]
        self.steps = max(0, len(self.sigmas) - 1)
        self.shape = x.shape
        self.device = x.device
        self.dtype = x.dtype
        self._generator: torch.Generator | None = None
        self._denoised: torch.Tensor | None = None

    def denoise(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        batch = x.shape[0] if x.ndim else 1
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        self._denoised = self.model(x, torch.full((batch,), sigma, device=x.device, dtype=dtype))
        return self._denoised

    def uncond(self) -> torch.Tensor:
        """The unconditional x0 estimate of the latest :meth:`denoise` call (CFG++ samplers step
        along it): the denoiser's ``last_uncond`` (see :func:`needs_uncond`); a denoiser without
        guidance has none, and then the estimate itself stands in."""
        uncond = getattr(self.model, "last_uncond", None)
        if uncond is None:
            if self._denoised is None:
                raise RuntimeError("uncond() before any denoise() call")
            return self._denoised
        return uncond

    def noise(self, sigma: float, sigma_next: float) -> torch.Tensor:
        """A standard-normal tensor like ``x`` (from ``extra.noise`` or a seeded generator)."""
        if self.extra.noise is not None:
            return self.extra.noise(sigma, sigma_next).to(device=self.device, dtype=self.dtype)
        if self._generator is None:  # ComfyUI seeds its per-step noise with seed + 1 on the CPU
            self._generator = torch.Generator().manual_seed(int(self.extra.seed) + 1)
        z = torch.randn(self.shape, generator=self._generator, dtype=torch.float32)
        return z.to(device=self.device, dtype=self.dtype)

    def report(self, i: int, x: torch.Tensor, denoised: torch.Tensor) -> None:
        if self.extra.callback is not None:
            self.extra.callback(i, x, denoised, self.steps)

    def walk(self, x: torch.Tensor, step: Step) -> torch.Tensor:
        """The loop the samplers share: denoise at each sigma, then ``x = step(i, x, denoised,
        sigma, sigma_next)``, or ``x = denoised`` when the next sigma is 0; report every step."""
        for i in range(self.steps):
            s, s_next = self.sigmas[i], self.sigmas[i + 1]
            denoised = self.denoise(x, s)
            x = denoised if s_next == 0 else step(i, x, denoised, s, s_next)
            self.report(i, x, denoised)
        return x


def needs_uncond(sampler: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Mark a sampler that reads :meth:`Run.uncond`: the caller's guider then keeps the negative
    prompt even at cfg 1 (ComfyUI's CFG++ samplers disable its cfg-1 shortcut the same way), and
    exposes the unconditional estimate of each call as ``last_uncond``."""
    sampler.needs_uncond = True  # type: ignore[attr-defined]
    return sampler


def slope(x: torch.Tensor, denoised: torch.Tensor, sigma: float) -> torch.Tensor:
    """dx/dsigma of the probability-flow ODE: (x - D) / sigma."""
    return (x - denoised) / sigma


def ancestral_split(sigma: float, sigma_next: float, eta: float = 1.0) -> tuple[float, float]:
    """Split a step into a deterministic part down to ``sigma_down`` and fresh noise ``sigma_up``."""
    if sigma_next <= 0.0 or eta <= 0.0:
        return max(sigma_next, 0.0), 0.0
    up = eta * math.sqrt(max(sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2, 0.0))
    up = min(sigma_next, up)
    down = math.sqrt(max(sigma_next**2 - up**2, 0.0))
    return down, up


def ancestral_split_flow(sigma: float, sigma_next: float, eta: float = 1.0) -> tuple[float, float, float]:
    """The rectified-flow ancestral step (ComfyUI's *_RF samplers): (sigma_down, the factor x is
    rescaled by after the move, the size of the fresh noise). With x = (1 - s) x0 + s n the move
    goes down to sigma_down, then x is scaled to sigma_next's signal level and noise is added."""
    if sigma_next <= 0.0:
        return 0.0, 1.0, 0.0
    down = sigma_next * (1 + (sigma_next / sigma - 1) * eta)
    alpha_next, alpha_down = 1 - sigma_next, 1 - down
    renoise = max(sigma_next**2 - down**2 * alpha_next**2 / alpha_down**2, 0.0) ** 0.5
    return down, alpha_next / alpha_down, renoise


def lam(sigma: float) -> float:
    """lambda = -log(sigma)."""
    return -math.log(sigma)


def phi(k: int, h: float) -> float:
    """phi_k(h) = integral_0^1 exp(-h (1 - u)) u^(k-1) / (k-1)! du  (k >= 1).

    ``h * phi_1(h) = 1 - exp(-h)``; higher ones weight polynomial terms in the
    exponential integrator.  A series is used for small h (no cancellation), the
    recursion ``phi_{k+1} = (1/k! - phi_k) / h`` otherwise.
    """
    if h < 1.0:
        # phi_k(h) = sum_{j>=0} (-h)^j / (j + k)!
        return sum((-h) ** j / math.factorial(j + k) for j in range(30))
    value = -math.expm1(-h) / h
    for j in range(1, k):
        value = (1.0 / math.factorial(j) - value) / h
    return value


def simpson(f: Callable[[float], float], a: float, b: float, panels: int = 8) -> float:
    """Composite Simpson rule on [a, b]; exact for cubics with any number of panels."""
    n = 2 * max(1, panels)
    width = (b - a) / n
    total = f(a) + f(b)
    for j in range(1, n):
        total += (4.0 if j % 2 else 2.0) * f(a + j * width)
    return total * width / 3.0


def lagrange_weights(
    nodes: Sequence[float], a: float, b: float, warp: Callable[[float], float] | None = None, panels: int = 8
) -> list[float]:
    """Integrals over [a, b] of the Lagrange basis polynomials on ``nodes``.

    With ``warp`` the basis is a polynomial in ``warp(s)`` while the integral is
    still taken in ``s`` (used by DEIS, whose polynomial lives in timestep space).
    """
    warp = warp or (lambda s: s)
    warped = [warp(n) for n in nodes]

    def basis(j: int) -> Callable[[float], float]:
        def f(s: float) -> float:
            u = warp(s)
            out = 1.0
            for m, node in enumerate(warped):
                if m != j:
                    out *= (u - node) / (warped[j] - node)
            return out

        return f

    return [simpson(basis(j), a, b, panels) for j in range(len(nodes))]

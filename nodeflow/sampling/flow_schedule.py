"""The sigma table of rectified-flow models (SD3, Flux, AuraFlow): ``x = (1 - sigma) x0 + sigma noise``
with sigma in [0, 1], the network predicting the velocity ``noise - x0`` so that the denoised
estimate is ``x - sigma * v``.

A ``FlowSchedule`` has the interface of ``DiscreteSchedule`` (``sigmas``, ``sigma_min``/``sigma_max``,
``timestep``, ``sigma``, ``percent_to_sigma``, ``nearest_timestep``), so every scheduler builds on it
unchanged. Time ``t`` in (0, 1] maps to sigma through a shift towards noise:

- ``"snr"`` (SD3, AuraFlow, Flux schnell): ``sigma = shift t / (1 + (shift - 1) t)``;
- ``"flux"`` (Flux dev): ``sigma = e^mu / (e^mu + 1/t - 1)`` with ``mu = shift``.

The network is given ``sigma * multiplier`` (1000 for SD3; 1 for Flux and AuraFlow, whose networks
scale it themselves). The numbers are computed in float32 in the same order as ComfyUI's
ModelSamplingDiscreteFlow / ModelSamplingFlux, so schedules agree bit for bit."""

from __future__ import annotations

import math

import torch


def time_snr_shift(alpha: float, t):
    """Flow time shifted towards noise: alpha t / (1 + (alpha - 1) t); alpha 1 leaves t as is."""
    if alpha == 1.0:
        return t
    return alpha * t / (1 + (alpha - 1) * t)


def flux_time_shift(mu: float, t, power: float = 1.0):
    """Flux's shift: e^mu / (e^mu + (1/t - 1)^power)."""
    return math.exp(mu) / (math.exp(mu) + (1 / t - 1) ** power)


SHIFTS = {"snr": time_snr_shift, "flux": flux_time_shift}


def flux_resolution_shift(width: int, height: int, base_shift: float = 0.5, max_shift: float = 1.15) -> float:
    """Flux's resolution-dependent mu: linear in the number of 2x2 latent patches, ``base_shift`` at
    256 patches and ``max_shift`` at 4096 (1024x1024)."""
    slope = (max_shift - base_shift) / (4096 - 256)
    return (width * height / (8 * 8 * 2 * 2)) * slope + (base_shift - slope * 256)


class FlowSchedule:
    """Noise levels of a rectified-flow model (see the module docstring)."""

    prediction = "flow"

    def __init__(
        self, shift: float = 1.0, multiplier: float = 1000.0, timesteps: int = 1000, kind: str = "snr"
    ) -> None:
        if kind not in SHIFTS:
            raise ValueError(f"unknown flow shift kind {kind!r}; known: {', '.join(SHIFTS)}")
        self.shift, self.multiplier, self.kind = float(shift), float(multiplier), kind
        if kind == "flux":  # ComfyUI's ModelSamplingFlux: t over (0, 1], timestep = sigma
            table = torch.arange(1, timesteps + 1, 1) / timesteps
        else:
            table = (torch.arange(1, timesteps + 1, 1) / timesteps) * self.multiplier
        self.sigmas = self.sigma(table).to(torch.float32)
        self.log_sigmas = self.sigmas.log()
        self.sigma_min = float(self.sigmas[0])
        self.sigma_max = float(self.sigmas[-1])

    @classmethod
    def sd3(cls, shift: float = 3.0) -> FlowSchedule:
        return cls(shift=shift, multiplier=1000.0)

    @classmethod
    def aura_flow(cls, shift: float = 1.73) -> FlowSchedule:
        return cls(shift=shift, multiplier=1.0)

    @classmethod
    def flux(cls, shift: float = 1.15) -> FlowSchedule:
        return cls(shift=shift, multiplier=1.0, timesteps=10000, kind="flux")

    @property
    def num_timesteps(self) -> int:
        return int(self.sigmas.shape[0])

    def _scale(self) -> float:
        return 1.0 if self.kind == "flux" else self.multiplier

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The (continuous) network timestep of ``sigma``."""
        sigma = torch.as_tensor(sigma)
        return sigma * self._scale()

    def nearest_timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """What the network is given: flow models take the continuous timestep."""
        return self.timestep(torch.as_tensor(sigma).float())

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float32) if not torch.is_tensor(t) else t
        return SHIFTS[self.kind](self.shift, t / self._scale())

    def percent_to_sigma(self, percent: float) -> float:
        if percent <= 0.0:
            return 1.0
        if percent >= 1.0:
            return 0.0
        return float(SHIFTS[self.kind](self.shift, 1.0 - percent))


# How each prediction type puts noise into a latent and reads it back (ComfyUI's noise_scaling /
# inverse_noise_scaling): the VE families add sigma-scaled noise; flow models interpolate.


def is_flow(model) -> bool:
    return getattr(model, "prediction", None) == "flow"


def noise_latent(flow: bool, sigma, noise: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
    """The latent at noise level ``sigma`` (a float or a [B] / broadcastable tensor)."""
    if torch.is_tensor(sigma) and sigma.ndim:
        sigma = sigma.reshape(-1, *([1] * (noise.ndim - 1))).to(noise)
    if flow:
        return sigma * noise + (1.0 - sigma) * latent
    return latent + noise * sigma


def unnoise_final(flow: bool, sigma: float, latent: torch.Tensor) -> torch.Tensor:
    """What a run that stopped at ``sigma`` hands back (flow models rescale, ComfyUI's
    inverse_noise_scaling; identity at sigma 0 and for the VE families)."""
    if flow and sigma > 0:
        return latent / (1.0 - sigma)
    return latent

"""Model-sampling pieces the comfy_extras shims build on: epsilon-prediction math and a discrete
sigma table with ComfyUI's ModelSamplingDiscrete interface (``sigmas``, ``log_sigmas``,
``sigma_min``/``sigma_max``, ``timestep``, ``sigma``, ``percent_to_sigma``, ``set_sigmas``), built
on NodeFlow's DiscreteSchedule."""
from __future__ import annotations

from typing import Any

import torch

from nodeflow.sampling.schedules import DiscreteSchedule

# the terminal alphas_cumprod a zero-terminal-SNR schedule is clamped to (sigma ~ 4519 instead of
# infinity), the value ComfyUI uses, so the schedules agree
ZSNR_TERMINAL_ALPHAS_CUMPROD = 4.8973451890853435e-08


def comfy_base(name: str, fallback: type) -> type:
    """comfy.model_sampling's class ``name`` when that module provides it, else ``fallback``."""
    try:
        import comfy.model_sampling as ms

        return getattr(ms, name)
    except (ImportError, AttributeError):
        return fallback


def rescale_zero_terminal_snr(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Lin et al. 2023, Algorithm 1: shift and scale sqrt(alphas_cumprod) so the last timestep has
    zero signal and the first keeps its value (the terminal value is then clamped, see above)."""
    root = torch.as_tensor(alphas_cumprod, dtype=torch.float64).sqrt()
    first, last = root[0].clone(), root[-1].clone()
    root = (root - last) * (first / (first - last))
    out = root ** 2
    out[-1] = ZSNR_TERMINAL_ALPHAS_CUMPROD
    return out


class EpsMath:
    """Epsilon prediction (x = x0 + sigma * eps): how the network input is scaled and its output
    turned into the denoised estimate."""
    sigma_data = 1.0

    def calculate_input(self, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        sigma = sigma.view(sigma.shape[:1] + (1,) * (noise.ndim - 1))
        return noise / (sigma ** 2 + self.sigma_data ** 2) ** 0.5

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor):
        sigma = sigma.view(sigma.shape[:1] + (1,) * (model_output.ndim - 1))
        return model_input - model_output * sigma

    def noise_scaling(self, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor,
                      max_denoise: bool = False) -> torch.Tensor:
        sigma = sigma.view(sigma.shape[:1] + (1,) * (noise.ndim - 1))
        scale = (1.0 + sigma ** 2) ** 0.5 if max_denoise else sigma
        return noise * scale + latent_image

    def inverse_noise_scaling(self, sigma: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        return latent


def _schedule(model_config: Any, zsnr: bool | None) -> DiscreteSchedule:
    settings = getattr(model_config, "sampling_settings", None) or {}
    if settings.get("beta_schedule", "linear") != "linear":
        raise ValueError(f"beta_schedule {settings['beta_schedule']!r} is not supported (only SD's scaled linear)")
    schedule = DiscreteSchedule.sd(settings.get("linear_start", 0.00085), settings.get("linear_end", 0.012),
                                   int(settings.get("timesteps", 1000)))
    if zsnr or settings.get("zsnr"):
        schedule = DiscreteSchedule(rescale_zero_terminal_snr(schedule.alphas_cumprod))
    return schedule


class DiscreteTable(torch.nn.Module):
    """The sigmas of a discrete-time model and the maps between sigma and timestep."""

    def __init__(self, model_config: Any = None, zsnr: bool | None = None) -> None:
        super().__init__()
        self.set_sigmas(_schedule(model_config, zsnr).sigmas)

    def set_sigmas(self, sigmas: torch.Tensor) -> None:
        sigmas = torch.as_tensor(sigmas, dtype=torch.float32)
        self.register_buffer("sigmas", sigmas, persistent=False)
        self.register_buffer("log_sigmas", sigmas.log(), persistent=False)

    @property
    def sigma_min(self) -> torch.Tensor:
        return self.sigmas[0]

    @property
    def sigma_max(self) -> torch.Tensor:
        return self.sigmas[-1]

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The index of the nearest sigma (in log space)."""
        distance = (sigma.log().reshape(-1, 1) - self.log_sigmas.to(sigma.device).reshape(1, -1)).abs()
        return distance.argmin(dim=1).view(sigma.shape).to(sigma.device)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        """Sigma at (fractional) indices: log sigma linear between neighbours."""
        t = torch.as_tensor(timestep, dtype=torch.float32).clamp(0, len(self.sigmas) - 1)
        low, high = t.floor().long(), t.ceil().long()
        w = t.frac()
        logs = self.log_sigmas.to(t.device)
        return ((1 - w) * logs[low] + w * logs[high]).exp()

    def percent_to_sigma(self, percent: float) -> float:
        if percent <= 0.0:
            return 999999999.9
        if percent >= 1.0:
            return 0.0
        return float(self.sigma(torch.tensor((1.0 - percent) * (len(self.sigmas) - 1))))


__all__ = ["ZSNR_TERMINAL_ALPHAS_CUMPROD", "comfy_base", "rescale_zero_terminal_snr", "EpsMath", "DiscreteTable"]

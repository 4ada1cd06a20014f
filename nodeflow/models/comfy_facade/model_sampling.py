"""ComfyUI's ModelSampling objects (``model.get_model_object("model_sampling")``): a prediction
mixin (how network output becomes the denoised image, how noise enters) combined with a sigma
table. The discrete table is NodeFlow's ``DiscreteSchedule``, so a pack that reads sigmas or maps
sigma <-> timestep gets exactly the numbers NodeFlow's own sampler uses. Put on a MODEL with
``add_object_patch("model_sampling", ms)``, one replaces the family's schedule and prediction."""

from __future__ import annotations

import math

import torch

from nodeflow.sampling.flow_schedule import time_snr_shift  # noqa: F401  (comfy.model_sampling re-exports it)


def _col(sigma: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    sigma = torch.as_tensor(sigma, device=like.device)
    return sigma.reshape(sigma.shape[:1] + (1,) * (like.ndim - 1)) if sigma.ndim else sigma


class EPS:
    """Epsilon prediction."""

    prediction = "eps"
    sigma_data = 1.0

    def calculate_input(self, sigma, noise: torch.Tensor) -> torch.Tensor:
        sigma = _col(sigma, noise)
        return noise / (sigma**2 + self.sigma_data**2) ** 0.5

    def calculate_denoised(self, sigma, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        return model_input - model_output * _col(sigma, model_output)

    def noise_scaling(
        self, sigma, noise: torch.Tensor, latent_image: torch.Tensor, max_denoise: bool = False
    ) -> torch.Tensor:
        sigma = _col(sigma, noise)
        scale = torch.sqrt(1.0 + sigma**2.0) if max_denoise else sigma
        return noise * scale + latent_image

    def inverse_noise_scaling(self, sigma, latent: torch.Tensor) -> torch.Tensor:
        return latent


class V_PREDICTION(EPS):
    """v prediction."""

    prediction = "v"

    def calculate_denoised(self, sigma, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        sigma, sd = _col(sigma, model_output), self.sigma_data
        return model_input * sd**2 / (sigma**2 + sd**2) - model_output * sigma * sd / (sigma**2 + sd**2) ** 0.5


class EDM(V_PREDICTION):
    prediction = "edm"

    def calculate_denoised(self, sigma, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        sigma, sd = _col(sigma, model_output), self.sigma_data
        return model_input * sd**2 / (sigma**2 + sd**2) + model_output * sigma * sd / (sigma**2 + sd**2) ** 0.5


class CONST:
    """Rectified flow: x_t = (1 - t) x0 + t noise, sigma = t."""

    prediction = "flow"
    sigma_data = 1.0

    def calculate_input(self, sigma, noise: torch.Tensor) -> torch.Tensor:
        return noise

    def calculate_denoised(self, sigma, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        return model_input - model_output * _col(sigma, model_output)

    def noise_scaling(
        self, sigma, noise: torch.Tensor, latent_image: torch.Tensor, max_denoise: bool = False
    ) -> torch.Tensor:
        sigma = _col(sigma, noise)
        return sigma * noise + (1.0 - sigma) * latent_image

    def inverse_noise_scaling(self, sigma, latent: torch.Tensor) -> torch.Tensor:
        return latent / (1.0 - _col(sigma, latent))


# the terminal alphas_cumprod a zero-terminal-SNR schedule is clamped to (sigma ~ 4519 instead of
# infinity), the value ComfyUI uses, so the schedules agree
ZSNR_TERMINAL_ALPHAS_CUMPROD = 4.8973451890853435e-08


def rescale_zero_terminal_snr(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Lin et al. 2023, Algorithm 1: shift and scale sqrt(alphas_cumprod) so the last timestep has
    zero signal and the first keeps its value (the terminal value is then clamped, see above)."""
    root = torch.as_tensor(alphas_cumprod, dtype=torch.float64).sqrt()
    first, last = root[0].clone(), root[-1].clone()
    root = (root - last) * (first / (first - last))
    out = root**2
    out[-1] = ZSNR_TERMINAL_ALPHAS_CUMPROD
    return out


def _betas(beta_schedule: str, timesteps: int, linear_start: float, linear_end: float) -> torch.Tensor:
    if beta_schedule == "linear":  # linear in sqrt(beta): SD's "scaled linear"
        return torch.linspace(linear_start**0.5, linear_end**0.5, timesteps, dtype=torch.float64) ** 2
    if beta_schedule == "sqrt_linear":
        return torch.linspace(linear_start, linear_end, timesteps, dtype=torch.float64)
    if beta_schedule == "sqrt":
        return torch.linspace(linear_start, linear_end, timesteps, dtype=torch.float64) ** 0.5
    raise ValueError(f"beta schedule {beta_schedule!r} is not supported by NodeFlow (linear, sqrt_linear, sqrt)")


class ModelSamplingDiscrete(torch.nn.Module):
    """A discrete-time model's sigma table (1,000 training steps by default)."""

    def __init__(self, model_config=None, zsnr=None, *, schedule=None) -> None:
        super().__init__()
        settings = dict(getattr(model_config, "sampling_settings", None) or {})
        self.zsnr = bool(zsnr if zsnr is not None else settings.get("zsnr", False))
        if schedule is not None:
            self.use_schedule(schedule)
        else:
            self.set_parameters(
                beta_schedule=settings.get("beta_schedule", "linear"),
                linear_start=settings.get("linear_start", 0.00085),
                linear_end=settings.get("linear_end", 0.012),
                timesteps=settings.get("timesteps", 1000),
            )

    def set_parameters(
        self,
        beta_schedule: str = "linear",
        given_betas=None,
        timesteps: int = 1000,
        linear_start: float = 0.00085,
        linear_end: float = 0.012,
        cosine_s: float = 8e-3,
    ) -> None:
        from nodeflow.sampling.schedules import DiscreteSchedule

        betas = (
            torch.as_tensor(given_betas, dtype=torch.float64)
            if given_betas is not None
            else _betas(beta_schedule, timesteps, linear_start, linear_end)
        )
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        if getattr(self, "zsnr", False):
            alphas_cumprod = rescale_zero_terminal_snr(alphas_cumprod)
        self.use_schedule(DiscreteSchedule(alphas_cumprod))

    def set_sigmas(self, sigmas: torch.Tensor) -> None:
        from nodeflow.sampling.schedules import DiscreteSchedule

        sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
        self.use_schedule(DiscreteSchedule(1.0 / (1.0 + sigmas**2)))

    def use_schedule(self, schedule) -> None:
        """Take NodeFlow's ``DiscreteSchedule`` as this object's sigma table."""
        self.schedule = schedule
        self.register_buffer("sigmas", schedule.sigmas.clone(), persistent=False)
        self.register_buffer("log_sigmas", schedule.log_sigmas.clone(), persistent=False)

    @property
    def sigma_min(self) -> torch.Tensor:
        return self.sigmas[0]

    @property
    def sigma_max(self) -> torch.Tensor:
        return self.sigmas[-1]

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The nearest training timestep (a whole number) of each sigma."""
        sigma = torch.as_tensor(sigma)
        return self.schedule.nearest_timestep(sigma.cpu()).long().to(sigma.device)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        timestep = torch.as_tensor(timestep)
        return self.schedule.sigma(timestep.cpu()).to(timestep.device)

    def percent_to_sigma(self, percent: float) -> float:
        return self.schedule.percent_to_sigma(percent)


class ModelSamplingDiscreteFlow(torch.nn.Module):
    """Flow models' table: sigma(t) = shift(t / multiplier) over ``timesteps`` steps (NodeFlow's
    ``FlowSchedule``, which KSampler uses when this object is patched onto a MODEL)."""

    kind = "snr"

    def __init__(self, model_config=None, *, schedule=None) -> None:
        super().__init__()
        if schedule is not None:
            self.use_schedule(schedule)
            return
        settings = dict(getattr(model_config, "sampling_settings", None) or {})
        self.set_parameters(shift=settings.get("shift", 1.0), multiplier=settings.get("multiplier", 1000))

    def set_parameters(self, shift: float = 1.0, timesteps: int = 1000, multiplier: float = 1000) -> None:
        from nodeflow.sampling.flow_schedule import FlowSchedule

        self.use_schedule(FlowSchedule(shift=shift, multiplier=multiplier, timesteps=timesteps, kind=self.kind))

    def use_schedule(self, schedule) -> None:
        self.schedule = schedule
        self.shift, self.multiplier = schedule.shift, schedule.multiplier
        self.register_buffer("sigmas", schedule.sigmas.clone(), persistent=False)

    @property
    def sigma_min(self) -> torch.Tensor:
        return self.sigmas[0]

    @property
    def sigma_max(self) -> torch.Tensor:
        return self.sigmas[-1]

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        return self.schedule.timestep(sigma)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        return self.schedule.sigma(torch.as_tensor(timestep, dtype=torch.float32))

    def percent_to_sigma(self, percent: float) -> float:
        return self.schedule.percent_to_sigma(percent)


class ModelSamplingFlux(ModelSamplingDiscreteFlow):
    """Flux dev's table: sigma = e^shift / (e^shift + 1/t - 1) over 10,000 steps; timestep = sigma."""

    kind = "flux"

    def __init__(self, model_config=None, *, schedule=None) -> None:
        if schedule is None:
            settings = dict(getattr(model_config, "sampling_settings", None) or {})
            from nodeflow.sampling.flow_schedule import FlowSchedule

            schedule = FlowSchedule.flux(settings.get("shift", 1.15))
        super().__init__(model_config, schedule=schedule)

    def set_parameters(self, shift: float = 1.15, timesteps: int = 10000) -> None:
        from nodeflow.sampling.flow_schedule import FlowSchedule

        self.use_schedule(FlowSchedule(shift=shift, multiplier=1.0, timesteps=timesteps, kind="flux"))


def sampling_class(prediction: type, table: type) -> type:
    """The combined class ComfyUI builds for a model: ``class ModelSampling(prediction, table)``."""
    return type("ModelSampling", (prediction, table), {})


PREDICTIONS = {"eps": EPS, "v": V_PREDICTION, "edm": EDM, "flow": CONST}


def sampling_for(model) -> torch.nn.Module:
    """The ModelSampling object of a NodeFlow DiffusionModel: its family's prediction and schedule."""
    prediction = PREDICTIONS.get(model.family.prediction)
    if prediction is None:
        raise ValueError(f"no ComfyUI ModelSampling for prediction {model.family.prediction!r}")
    schedule = model.family.schedule()
    table = ModelSamplingDiscrete
    if getattr(schedule, "prediction", None) == "flow":
        table = ModelSamplingFlux if schedule.kind == "flux" else ModelSamplingDiscreteFlow
    return sampling_class(prediction, table)(schedule=schedule)


def is_max_denoise(model_sampling, sigmas: torch.Tensor) -> bool:
    """Whether a run starting at ``sigmas[0]`` starts from pure noise (ComfyUI's test)."""
    top, first = float(model_sampling.sigma_max), float(sigmas[0])
    return math.isclose(top, first, rel_tol=1e-05) or first > top

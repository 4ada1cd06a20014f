"""``comfy.samplers`` sampler objects: ``KSAMPLER`` (a SAMPLER socket value), ``ksampler(name)``,
``sampler_object(name)``, ``calculate_sigmas`` and the ``KSampler`` class, on NodeFlow's samplers and
schedules. A KSAMPLER also has NodeFlow's SamplerChoice shape (``name``, ``fn``), so NodeFlow's
SamplerCustom node runs samplers made by packs, and packs run NodeFlow's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nodeflow.engine.context import current_context
from nodeflow.nodes.sampling_nodes import SAMPLER_CHOICES, SCHEDULER_CHOICES
from nodeflow.sampling.flow_schedule import is_flow, unnoise_final
from nodeflow.sampling.run import DISCARD_PENULTIMATE_SIGMA_SAMPLERS, ksampler_sigmas, masked, start_point
from nodeflow.sampling.samplers import SamplerExtras
from nodeflow.sampling.schedules import DiscreteSchedule
from nodeflow.sampling.schedules import calculate_sigmas as schedule_sigmas

from .k_diffusion import comfy_function, run_nodeflow

SAMPLER_NAMES = list(SAMPLER_CHOICES)
KSAMPLER_NAMES = [n for n in SAMPLER_NAMES if n not in ("ddim", "uni_pc", "uni_pc_bh2")]
SCHEDULER_NAMES = list(SCHEDULER_CHOICES)


class _AsComfyModel:
    """A NodeFlow ``denoise(x, sigma)`` callable as ComfyUI's ``model(x, sigma, **extra_args)``."""

    def __init__(self, denoise: Callable, inner_model: Any = None) -> None:
        self.denoise, self.inner_model = denoise, inner_model

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **_: Any) -> torch.Tensor:
        return self.denoise(x, sigma)

    @property
    def last_uncond(self):
        return getattr(self.denoise, "last_uncond", None)


class _Bound:
    """``model_wrap(x, sigma, **extra_args)`` with the extra args bound: NodeFlow's denoise form."""

    def __init__(self, model_wrap: Callable, extra_args: dict) -> None:
        self.model_wrap, self.extra_args = model_wrap, extra_args

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.model_wrap(x, sigma, **self.extra_args)

    @property
    def last_uncond(self):
        return getattr(self.model_wrap, "last_uncond", None)


class KSAMPLER:
    """A sampler: a function with ComfyUI's k-diffusion signature plus its extra options."""

    def __init__(
        self, sampler_function: Callable, extra_options: dict | None = None, inpaint_options: dict | None = None
    ) -> None:
        self.sampler_function = sampler_function
        self.extra_options = dict(extra_options or {})
        self.inpaint_options = dict(inpaint_options or {})

    @property
    def name(self) -> str:
        return getattr(self.sampler_function, "__name__", "custom").removeprefix("sample_")

    @property
    def needs_uncond(self) -> bool:
        return bool(getattr(self.sampler_function, "needs_uncond", False))

    @property
    def fn(self) -> Callable:
        """This sampler as NodeFlow's ``fn(denoise, x, sigmas, extra=SamplerExtras)``."""
        own = getattr(self.sampler_function, "nodeflow_sampler", None)
        if own is not None and not self.extra_options:
            return own

        def run(denoise: Callable, x: torch.Tensor, sigmas: torch.Tensor, extra: SamplerExtras | None = None):
            extra = extra or SamplerExtras()
            steps = len(sigmas) - 1
            callback = (
                None if extra.callback is None else (lambda d: extra.callback(d["i"], d["x"], d["denoised"], steps))
            )
            return self.sampler_function(
                _AsComfyModel(denoise),
                x,
                sigmas,
                extra_args={"seed": extra.seed},
                callback=callback,
                disable=True,
                **self.extra_options,
            )

        run.needs_uncond = self.needs_uncond  # type: ignore[attr-defined]
        return run

    def max_denoise(self, model_wrap: Any, sigmas: torch.Tensor) -> bool:
        from nodeflow.sampling.run import is_full_denoise

        return is_full_denoise(model_wrap.model_patcher, sigmas)

    def sample(
        self,
        model_wrap: Any,
        sigmas: torch.Tensor,
        extra_args: dict,
        callback: Callable | None,
        noise: torch.Tensor,
        latent_image: torch.Tensor | None = None,
        denoise_mask: torch.Tensor | None = None,
        disable_pbar: bool = False,
    ) -> torch.Tensor:
        """Sample in the model's latent space: start point, noise mask, the sampler, step callbacks."""
        patcher = model_wrap.model_patcher
        latent = latent_image if latent_image is not None else torch.zeros_like(noise)
        if self.needs_uncond:  # CFG++ samplers step along the unconditional estimate
            extra_args = {
                **extra_args,
                "model_options": {**extra_args.get("model_options", {}), "disable_cfg1_optimization": True},
            }
        denoise: Callable = _Bound(model_wrap, extra_args)
        if denoise_mask is not None:
            denoise = masked(denoise, patcher, latent, noise, denoise_mask, sigmas, extra_args.get("model_options", {}))
        total = len(sigmas) - 1

        def k_callback(step: dict) -> None:
            ctx = current_context()
            if ctx is not None:
                ctx.check_interrupt()
            if callback is not None:
                callback(step["i"], step["denoised"], step["x"], total)

        x = start_point(patcher, latent, noise, sigmas)
        model = _AsComfyModel(denoise, getattr(model_wrap, "inner_model", None))
        samples = self.sampler_function(
            model, x, sigmas, extra_args=extra_args, callback=k_callback, disable=disable_pbar, **self.extra_options
        )
        return unnoise_final(is_flow(patcher), float(sigmas[-1]), samples)  # ComfyUI's inverse_noise_scaling


def ksampler(sampler_name: str, extra_options: dict | None = None, inpaint_options: dict | None = None) -> KSAMPLER:
    return KSAMPLER(comfy_function(sampler_name), extra_options, inpaint_options)


def as_ksampler(sampler: Any) -> Any:
    """A sampler object with ``sample(...)``: KSAMPLERs as they are, NodeFlow's SamplerChoice adapted."""
    if hasattr(sampler, "sample"):
        return sampler
    fn = getattr(sampler, "fn", None)
    if fn is None:
        raise TypeError(f"{type(sampler).__name__} is not a sampler (use KSamplerSelect or comfy.samplers.ksampler)")
    name = getattr(sampler, "name", "")
    if name in SAMPLER_NAMES and comfy_function(name).nodeflow_sampler is fn:
        return ksampler(name)

    def custom(model, x, sigmas, extra_args=None, callback=None, disable=None, **options):
        return run_nodeflow(fn, name or "custom", model, x, sigmas, extra_args, callback, options=options)

    custom.__name__ = f"sample_{name or 'custom'}"
    custom.needs_uncond = getattr(fn, "needs_uncond", False)  # type: ignore[attr-defined]
    return KSAMPLER(custom)


def sampler_object(name: str) -> KSAMPLER:
    if name not in SAMPLER_NAMES:
        raise ValueError(f"unknown sampler {name!r}; valid choices: {', '.join(SAMPLER_NAMES)}")
    return ksampler(name)


def schedule_of_sampling(model_sampling: Any) -> DiscreteSchedule:
    schedule = getattr(model_sampling, "schedule", None)
    if isinstance(schedule, DiscreteSchedule):
        return schedule
    sigmas = torch.as_tensor(model_sampling.sigmas, dtype=torch.float64)
    return DiscreteSchedule(1.0 / (1.0 + sigmas**2))


def calculate_sigmas(model_sampling: Any, scheduler_name: str, steps: int) -> torch.Tensor:
    """``steps + 1`` sigmas of a named scheduler for a ModelSampling object (ValueError when unknown)."""
    return schedule_sigmas(schedule_of_sampling(model_sampling), scheduler_name, int(steps))


class KSampler:
    SCHEDULERS = SCHEDULER_NAMES
    SAMPLERS = SAMPLER_NAMES
    DISCARD_PENULTIMATE_SIGMA_SAMPLERS = set(DISCARD_PENULTIMATE_SIGMA_SAMPLERS)

    def __init__(
        self,
        model,
        steps: int,
        device=None,
        sampler: str | None = None,
        scheduler: str | None = None,
        denoise: float | None = None,
        model_options: dict | None = None,
    ) -> None:
        sampler, scheduler = sampler or self.SAMPLERS[0], scheduler or self.SCHEDULERS[0]
        if sampler not in self.SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; valid choices: {', '.join(self.SAMPLERS)}")
        if scheduler not in self.SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}; valid choices: {', '.join(self.SCHEDULERS)}")
        self.model, self.device, self.sampler, self.scheduler = model, device, sampler, scheduler
        self.model_options = model_options if model_options is not None else model.model_options
        self.set_steps(steps, denoise)

    def calculate_sigmas(self, steps: int) -> torch.Tensor:
        return ksampler_sigmas(self.model, self.scheduler, steps, 1.0, sampler_name=self.sampler)

    def set_steps(self, steps: int, denoise: float | None = None) -> None:
        self.steps = steps
        self.sigmas = ksampler_sigmas(
            self.model, self.scheduler, steps, 1.0 if denoise is None else float(denoise), sampler_name=self.sampler
        ).float()

    def sample(
        self,
        noise,
        positive,
        negative,
        cfg,
        latent_image=None,
        start_step=None,
        last_step=None,
        force_full_denoise=False,
        denoise_mask=None,
        sigmas=None,
        callback=None,
        disable_pbar=False,
        seed=None,
    ) -> torch.Tensor:
        sigmas = self.sigmas if sigmas is None else sigmas
        if last_step is not None and last_step < len(sigmas) - 1:
            sigmas = sigmas[: last_step + 1].clone()
            if force_full_denoise:
                sigmas[-1] = 0
        if start_step is not None:
            if start_step >= len(sigmas) - 1:
                return latent_image if latent_image is not None else torch.zeros_like(noise)
            sigmas = sigmas[start_step:]
        from .guider import sample

        return sample(
            self.model,
            noise,
            positive,
            negative,
            cfg,
            self.device,
            sampler_object(self.sampler),
            sigmas,
            self.model_options,
            latent_image,
            denoise_mask,
            callback,
            disable_pbar,
            seed,
        )

"""``comfy.k_diffusion.sampling``: ComfyUI's sampler functions, each NodeFlow's own sampler behind
ComfyUI's signature ``sample_<name>(model, x, sigmas, extra_args=None, callback=None, disable=None,
**options)``. ``model(x, sigma, **extra_args)`` returns the denoised estimate; ``callback`` gets
``{"x", "i", "sigma", "sigma_hat", "denoised"}`` after every step; ``eta``, ``s_noise`` and
``noise_sampler`` are honoured, and so are the options NodeFlow's sampler takes (``r``, ``order`` ...).
Per-step noise comes from ``extra_args["seed"]`` as in ComfyUI's KSampler (a generator seeded with
seed + 1 on the CPU; a Brownian tree for the SDE samplers). Also the helpers packs import:
``to_d``, ``get_ancestral_step``, ``default_noise_sampler``, ``BrownianTreeNoiseSampler``,
``get_sigmas_karras`` / ``_exponential`` / ``_polyexponential`` / ``_vp``, ``append_zero``."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import torch

from nodeflow.sampling.brownian import BrownianNoise
from nodeflow.sampling.samplers import SAMPLERS, SamplerExtras

# options ComfyUI's functions take that NodeFlow's samplers only support at their defaults
_DEFAULT_ONLY = {"s_churn": 0.0, "s_tmin": 0.0, "s_tmax": float("inf")}


def append_zero(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, x.new_zeros([1])])


def get_sigmas_karras(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0, device="cpu") -> torch.Tensor:
    """Karras et al. (2022): evenly spaced in sigma ** (1 / rho), then a final 0."""
    ramp = torch.linspace(0, 1, n, device=device)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return append_zero((hi + ramp * (lo - hi)) ** rho).to(device)


def get_sigmas_exponential(n: int, sigma_min: float, sigma_max: float, device="cpu") -> torch.Tensor:
    return append_zero(torch.linspace(math.log(sigma_max), math.log(sigma_min), n, device=device).exp())


def get_sigmas_polyexponential(
    n: int, sigma_min: float, sigma_max: float, rho: float = 1.0, device="cpu"
) -> torch.Tensor:
    ramp = torch.linspace(1, 0, n, device=device) ** rho
    return append_zero(torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min)))


def get_sigmas_vp(
    n: int, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3, device="cpu"
) -> torch.Tensor:
    t = torch.linspace(1, eps_s, n, device=device)
    return append_zero(torch.sqrt(torch.exp(beta_d * t**2 / 2 + beta_min * t) - 1))


def to_d(x: torch.Tensor, sigma: torch.Tensor, denoised: torch.Tensor) -> torch.Tensor:
    """dx/dsigma of the probability-flow ODE: (x - denoised) / sigma."""
    return (x - denoised) / append_dims(torch.as_tensor(sigma, device=x.device), x.ndim)


def append_dims(x: torch.Tensor, target_dims: int) -> torch.Tensor:
    missing = target_dims - x.ndim
    if missing < 0:
        raise ValueError(f"input has {x.ndim} dims but target_dims is {target_dims}, which is less")
    return x[(...,) + (None,) * missing]


def get_ancestral_step(sigma_from, sigma_to, eta: float = 1.0):
    """(sigma_down, sigma_up) of an ancestral step: deterministic to sigma_down, then noise of sigma_up."""
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(sigma_to, eta * (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5)
    return (sigma_to**2 - sigma_up**2) ** 0.5, sigma_up


def default_noise_sampler(x: torch.Tensor, seed: int | None = None) -> Callable:
    """``fn(sigma, sigma_next)`` -> standard normal noise like ``x``: from a generator seeded with
    ``seed`` (+ 1 on the CPU, as ComfyUI's KSampler seeds it) or from torch's global one."""
    if seed is None:
        return lambda sigma, sigma_next: torch.randn_like(x)
    generator = torch.Generator(device=x.device).manual_seed(int(seed) + (1 if x.device.type == "cpu" else 0))
    return lambda sigma, sigma_next: torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32).to(
        x.dtype
    )


class BrownianTreeNoiseSampler:
    """Noise from one Brownian tree over [sigma_min, sigma_max] (NodeFlow's SDE noise source)."""

    def __init__(
        self,
        x: torch.Tensor,
        sigma_min,
        sigma_max,
        seed: int | None = None,
        transform: Callable = lambda t: t,
        cpu: bool = False,
    ) -> None:
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()))
        self.transform = transform
        low, high = float(transform(torch.as_tensor(sigma_min))), float(transform(torch.as_tensor(sigma_max)))
        self.noise = BrownianNoise(x.shape, [low, high], seed, device=x.device, on_device=not cpu)

    def __call__(self, sigma, sigma_next) -> torch.Tensor:
        return self.noise(
            float(self.transform(torch.as_tensor(sigma))), float(self.transform(torch.as_tensor(sigma_next)))
        )


class _Denoiser:
    """ComfyUI's ``model(x, sigma, **extra_args)`` as NodeFlow's ``denoise(x, sigma)``."""

    def __init__(self, model: Callable, extra_args: dict) -> None:
        self.model, self.extra_args = model, extra_args

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.model(x, sigma, **self.extra_args)

    @property
    def last_uncond(self) -> torch.Tensor | None:  # for CFG++ samplers (see nodeflow.sampling._common)
        return getattr(self.model, "last_uncond", None)


def schedule_of(model: Any):
    """The DiscreteSchedule behind a ComfyUI model callable (guider, BaseModel view), if it has one."""
    for path in (
        ("inner_model", "model_sampling"),
        ("model_sampling",),
        ("inner_model", "inner_model", "model_sampling"),
    ):
        obj = model
        for part in path:
            obj = getattr(obj, part, None)
        if getattr(obj, "schedule", None) is not None:
            return obj.schedule
    return None


def run_nodeflow(
    fn: Callable,
    name: str,
    model: Callable,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict | None = None,
    callback: Callable | None = None,
    eta=None,
    s_noise=None,
    noise_sampler=None,
    options: dict | None = None,
) -> torch.Tensor:
    """Run NodeFlow sampler ``fn`` with ComfyUI's calling convention."""
    extra_args = dict(extra_args or {})
    accepted = set(inspect.signature(fn).parameters) - {"denoise", "x", "sigmas", "extra"}
    passed = {}
    for key, value in (options or {}).items():
        if key in accepted:
            passed[key] = value
        elif value is not None and _DEFAULT_ONLY.get(key, object()) != value:
            raise ValueError(f"sampler {name}: option {key}={value!r} is not supported by NodeFlow")
    seed = extra_args.get("seed")
    extra = SamplerExtras(
        seed=int(seed) if seed is not None else int(torch.randint(0, 2**31 - 1, ())), schedule=schedule_of(model)
    )
    changes = {k: v for k, v in (("eta", eta), ("s_noise", s_noise), ("noise", noise_sampler)) if v is not None}
    if callback is not None:
        changes["callback"] = lambda i, xi, denoised, total: callback(
            {"x": xi, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised}
        )
    return fn(_Denoiser(model, extra_args), x, sigmas, extra=dataclasses.replace(extra, **changes), **passed)


@functools.cache
def comfy_function(name: str) -> Callable:
    """NodeFlow's sampler ``name`` with ComfyUI's (model, x, sigmas, extra_args, callback, disable) signature."""
    fn = SAMPLERS.get(name)
    if fn is None:
        raise ValueError(f"unknown sampler {name!r}; valid choices: {', '.join(SAMPLERS)}")

    def sample(
        model,
        x,
        sigmas,
        extra_args=None,
        callback=None,
        disable=None,
        eta=None,
        s_noise=None,
        noise_sampler=None,
        **options,
    ):
        return run_nodeflow(fn, name, model, x, sigmas, extra_args, callback, eta, s_noise, noise_sampler, options)

    sample.__name__ = sample.__qualname__ = f"sample_{name}"
    sample.__doc__ = f"NodeFlow's {name} sampler with ComfyUI's k-diffusion signature."
    sample.nodeflow_sampler = fn  # type: ignore[attr-defined]
    sample.needs_uncond = getattr(fn, "needs_uncond", False)  # type: ignore[attr-defined]
    return sample


SAMPLE_FUNCTIONS: dict[str, Callable] = {
    f"sample_{name}": comfy_function(name) for name in SAMPLERS if name not in ("dpm_fast", "dpm_adaptive")
}


def sample_dpm_fast(
    model,
    x,
    sigma_min,
    sigma_max,
    n,
    extra_args=None,
    callback=None,
    disable=None,
    eta=0.0,
    s_noise=1.0,
    noise_sampler=None,
):
    """DPM-Solver-fast over ``n`` network calls from sigma_max down to sigma_min."""
    if eta:
        raise ValueError("sampler dpm_fast: eta > 0 is not supported by NodeFlow")
    sigmas = torch.linspace(float(sigma_max), float(sigma_min), int(n) + 1)
    return run_nodeflow(SAMPLERS["dpm_fast"], "dpm_fast", model, x, sigmas, extra_args, callback)


def sample_dpm_adaptive(
    model,
    x,
    sigma_min,
    sigma_max,
    extra_args=None,
    callback=None,
    disable=None,
    order=3,
    rtol=0.05,
    atol=0.0078,
    h_init=0.05,
    pcoeff=0.0,
    icoeff=1.0,
    dcoeff=0.0,
    accept_safety=0.81,
    eta=0.0,
    s_noise=1.0,
    noise_sampler=None,
    return_info=False,
):
    """Adaptive DPM-Solver-23 from sigma_max down to sigma_min."""
    if eta or return_info:
        raise ValueError("sampler dpm_adaptive: eta > 0 and return_info are not supported by NodeFlow")
    sigmas = torch.tensor([float(sigma_max), float(sigma_min)])
    options = {
        "order": order,
        "rtol": rtol,
        "atol": atol,
        "h_init": h_init,
        "pcoeff": pcoeff,
        "icoeff": icoeff,
        "dcoeff": dcoeff,
        "accept_safety": accept_safety,
    }
    return run_nodeflow(
        SAMPLERS["dpm_adaptive"], "dpm_adaptive", model, x, sigmas, extra_args, callback, options=options
    )

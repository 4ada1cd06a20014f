"""comfy_extras.nodes_model_advanced for custom-node packs: model-sampling patches (prediction type,
zero-terminal-SNR, flow shifts), LCM's prediction, the 50-step distilled discrete sampling and
RescaleCFG.

On a NodeFlow MODEL (``DiffusionModel``) ModelSamplingDiscrete switches eps / v-prediction and the
zero-terminal-SNR schedule on a clone. Patches NodeFlow's sampler cannot express on its own
(lcm/x0 predictions, flow shifts, CFG functions) use ComfyUI's ModelPatcher API when the MODEL
has it (``add_object_patch``, ``set_model_sampler_cfg_function``), else raise a clear error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import v3_execute
from nodeflow.models.comfy_facade.model_sampling import EPS, ModelSamplingDiscrete, rescale_zero_terminal_snr
from nodeflow.sampling.flow_schedule import flux_resolution_shift
from nodeflow.sampling.schedules import DiscreteSchedule
from nodeflow.schema.types import MAX_RESOLUTION

LCM_SIGMA_DATA = 0.5  # boundary-condition constants of Latent Consistency Models (Luo et al. 2023)
LCM_TIMESTEP_SCALING = 10.0


class LCM(EPS):
    """Epsilon prediction with LCM's boundary condition: denoised = c_skip(t) x + c_out(t) x0."""

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor):
        t = self.timestep(sigma).to(model_input.dtype) * LCM_TIMESTEP_SCALING
        sigma = sigma.view(sigma.shape[:1] + (1,) * (model_output.ndim - 1))
        t = t.view(sigma.shape)
        x0 = model_input - model_output * sigma
        c_skip = LCM_SIGMA_DATA**2 / (t**2 + LCM_SIGMA_DATA**2)
        c_out = t / (t**2 + LCM_SIGMA_DATA**2) ** 0.5
        return c_out * x0 + c_skip * model_input


class ModelSamplingDiscreteDistilled(ModelSamplingDiscrete, EPS):
    """Discrete sampling restricted to 50 evenly spaced training timesteps (19, 39, ... 999), for
    distilled (LCM) models: ``timestep`` and ``sigma`` map onto that grid."""

    original_timesteps = 50

    def __init__(self, model_config: Any = None, zsnr: bool | None = None) -> None:
        super().__init__(model_config, zsnr)
        full = self.sigmas.clone()
        self.skip_steps = len(full) // self.original_timesteps
        picked = [len(full) - 1 - i * self.skip_steps for i in range(self.original_timesteps)]
        self.set_sigmas(full[sorted(picked)])

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        nearest = (sigma.log().reshape(-1, 1) - self.log_sigmas.reshape(1, -1)).abs().argmin(dim=1).view(sigma.shape)
        return (nearest * self.skip_steps + (self.skip_steps - 1)).to(sigma.device)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        t = (torch.as_tensor(timestep).float() - (self.skip_steps - 1)) / self.skip_steps
        return super().sigma(t)


def _patcher(model: Any, method: str) -> Callable | None:
    return getattr(model, method, None) if callable(getattr(model, method, None)) else None


def _sampling_class(*names: str) -> type:
    """A model-sampling class combining comfy.model_sampling's ``names`` (ComfyUI's API)."""
    import comfy.model_sampling as ms

    return type("ModelSamplingAdvanced", tuple(getattr(ms, n) for n in names), {})


def _object_patch(model: Any, sampling: Any, node: str) -> Any:
    if _patcher(model, "add_object_patch") is None:
        raise ValueError(
            f"{node}: this MODEL ({type(model).__name__}) cannot take a model-sampling patch: it has "
            "no add_object_patch; connect a MODEL from a loader node"
        )
    m = model.clone()
    m.add_object_patch("model_sampling", sampling)
    return m


class _PatchNode:
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"
    execute = v3_execute("patch")


class ModelSamplingDiscrete(_PatchNode):
    """Set the prediction type (eps, v_prediction, lcm, x0) and optionally zero-terminal-SNR."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "sampling": (["eps", "v_prediction", "lcm", "x0", "img_to_img"],),
                "zsnr": ("BOOLEAN", {"default": False}),
            }
        }

    def patch(self, model: Any, sampling: str, zsnr: bool) -> tuple:
        from nodeflow.models.diffusion_model import DiffusionModel

        if sampling in ("eps", "v_prediction") and isinstance(model, DiffusionModel):
            family = model.family
            schedule = family.schedule
            if zsnr:
                table = rescale_zero_terminal_snr(family.schedule().alphas_cumprod)

                def schedule():
                    return DiscreteSchedule(table)

            prediction = "v" if sampling == "v_prediction" else "eps"
            clone = model.clone()
            clone.family = dataclasses.replace(family, prediction=prediction, schedule=schedule)
            return (clone,)
        kinds = {"eps": "EPS", "v_prediction": "V_PREDICTION", "lcm": "LCM", "x0": "X0", "img_to_img": "IMG_TO_IMG"}
        if sampling not in kinds:
            raise ValueError(f"sampling: {sampling!r} is not one of {list(kinds)}")
        if sampling == "lcm":
            cls = type("ModelSamplingAdvanced", (ModelSamplingDiscreteDistilled, LCM), {})
        else:
            cls = _sampling_class("ModelSamplingDiscrete", kinds[sampling])
        config = getattr(getattr(model, "model", None), "model_config", None)
        return (_object_patch(model, cls(config, zsnr=zsnr), "ModelSamplingDiscrete"),)


def flux_shift(width: int, height: int, base_shift: float, max_shift: float) -> float:
    """Flux's resolution-dependent shift (NodeFlow's ``flux_resolution_shift``)."""
    return flux_resolution_shift(width, height, base_shift, max_shift)


def _flow_patch(model: Any, node: str, classes: tuple[str, ...], **parameters: float) -> tuple:
    try:
        cls = _sampling_class(*classes)
    except (ImportError, AttributeError):
        raise ValueError(f"{node}: flow-matching models (Flux, SD3, AuraFlow) are not supported by NodeFlow") from None
    config = getattr(getattr(model, "model", None), "model_config", None)
    sampling = cls(config)
    sampling.set_parameters(**parameters)
    return (_object_patch(model, sampling, node),)


class ModelSamplingSD3(_PatchNode):
    """Flow shift for SD3-style models (time t -> shift t / (1 + (shift - 1) t))."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "shift": ("FLOAT", {"default": 3.0, "min": 0.0, "max": 100.0, "step": 0.01}),
            }
        }

    def patch(self, model: Any, shift: float, multiplier: float = 1000) -> tuple:
        return _flow_patch(
            model, type(self).__name__, ("ModelSamplingDiscreteFlow", "CONST"), shift=shift, multiplier=multiplier
        )


class ModelSamplingAuraFlow(ModelSamplingSD3):
    """Flow shift for AuraFlow models."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "shift": ("FLOAT", {"default": 1.73, "min": 0.0, "max": 100.0, "step": 0.01}),
            }
        }

    def patch_aura(self, model: Any, shift: float) -> tuple:
        return self.patch(model, shift, multiplier=1.0)

    FUNCTION = "patch_aura"
    execute = v3_execute("patch_aura")


class ModelSamplingFlux(_PatchNode):
    """Flux's resolution-dependent shift (see ``flux_shift``)."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "max_shift": ("FLOAT", {"default": 1.15, "min": 0.0, "max": 100.0, "step": 0.01}),
                "base_shift": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 100.0, "step": 0.01}),
                "width": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 8}),
                "height": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 8}),
            }
        }

    def patch(self, model: Any, max_shift: float, base_shift: float, width: int, height: int) -> tuple:
        return _flow_patch(
            model,
            "ModelSamplingFlux",
            ("ModelSamplingFlux", "CONST"),
            shift=flux_shift(width, height, base_shift, max_shift),
        )


def rescale_cfg(args: dict, multiplier: float) -> torch.Tensor:
    """CFG with the rescale of Lin et al. 2023 (sec. 3.4), for a sampler CFG function: guidance done
    on v-predictions, the result rescaled to the conditional one's standard deviation and mixed
    back by ``multiplier``. Returns input - denoised (ComfyUI's CFG-function convention)."""
    x, cond, uncond = args["input"], args["cond_denoised"], args["uncond_denoised"]
    sigma = args["sigma"].reshape(-1, *([1] * (x.ndim - 1))).to(x)
    root = (sigma**2 + 1.0) ** 0.5

    def to_v(denoised: torch.Tensor) -> torch.Tensor:  # v = alpha eps - s x0, with x = x0 + sigma eps
        return ((x - denoised) / sigma) / root - denoised * sigma / root

    v_cond, v_uncond = to_v(cond), to_v(uncond)
    v_cfg = v_uncond + args["cond_scale"] * (v_cond - v_uncond)
    dims = list(range(1, x.ndim))
    v_rescaled = v_cfg * (v_cond.std(dim=dims, keepdim=True) / v_cfg.std(dim=dims, keepdim=True))
    v = multiplier * v_rescaled + (1.0 - multiplier) * v_cfg
    denoised = x / root**2 - v * sigma / root
    return x - denoised


class RescaleCFG(_PatchNode):
    """Rescaled classifier-free guidance (see ``rescale_cfg``)."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "multiplier": ("FLOAT", {"default": 0.7, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def patch(self, model: Any, multiplier: float) -> tuple:
        if _patcher(model, "set_model_sampler_cfg_function") is None:
            raise ValueError(
                f"RescaleCFG: this MODEL ({type(model).__name__}) has no sampler CFG-function hook "
                "(ComfyUI's set_model_sampler_cfg_function)"
            )
        m = model.clone()
        m.set_model_sampler_cfg_function(lambda args: rescale_cfg(args, multiplier))
        return (m,)


__getattr__ = missing("comfy_extras.nodes_model_advanced")

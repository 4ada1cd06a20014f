"""comfy_extras.nodes_custom_sampler for custom-node packs: the custom-sampling node classes (NOISE,
GUIDER, SAMPLER, SIGMAS), their V1 method names and V3 ``execute``, on NodeFlow's sampling.

BasicScheduler, KSamplerSelect, SamplerCustom and SDTurboScheduler run NodeFlow's built-in nodes;
the NOISE and GUIDER objects and SamplerCustomAdvanced are written here. A GUIDER is anything with
ComfyUI's ``sample(noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None,
disable_pbar=False, seed=None)`` and a ``model_patcher``, so guiders from other packs work too."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.custom_sampling import sample_latent
from nodeflow.comfy_compat.v1_wrappers import core_class, v3_execute
from nodeflow.engine.context import current_context
from nodeflow.nodes import sampling_nodes as _nf
from nodeflow.sampling.run import prepare_noise

BasicScheduler = core_class(_nf.BasicScheduler, __name__)
KSamplerSelect = core_class(_nf.KSamplerSelect, __name__)
SamplerCustom = core_class(_nf.SamplerCustom, __name__)
SDTurboScheduler = core_class(_nf.SDTurboScheduler, __name__)


class Noise_EmptyNoise:
    """NOISE that adds nothing (sampling starts from the latent as it is)."""

    seed = 0

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        return torch.zeros(input_latent["samples"].shape, dtype=torch.float32, device="cpu")


class Noise_RandomNoise:
    """NOISE from a seed: the same noise KSampler makes for that seed (batch_index honoured)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        return prepare_noise(input_latent["samples"], self.seed, input_latent.get("batch_index"))


class Guider_Basic:
    """A GUIDER: the model with its conditionings and CFG scale (cfg 1 = positive only)."""

    def __init__(self, model_patcher: Any) -> None:
        self.model_patcher = model_patcher
        self.conds: dict[str, list] = {}
        self.cfg = 1.0

    def set_conds(self, positive: list, negative: list | None = None) -> None:
        self.conds = {"positive": positive} if negative is None else {"positive": positive, "negative": negative}

    def set_cfg(self, cfg: float) -> None:
        self.cfg = float(cfg)

    def sample(
        self,
        noise: torch.Tensor,
        latent_image: torch.Tensor,
        sampler: Any,
        sigmas: Any,
        denoise_mask: torch.Tensor | None = None,
        callback: Any = None,
        disable_pbar: bool = False,
        seed: int | None = None,
    ) -> torch.Tensor:
        if "positive" not in self.conds:
            raise ValueError("guider: no conditioning set (set_conds)")
        return sample_latent(
            self.model_patcher,
            self.conds["positive"],
            self.conds.get("negative"),
            self.cfg,
            noise,
            latent_image,
            sampler,
            sigmas,
            noise_mask=denoise_mask,
            callback=callback,
            seed=seed,
        )


class RandomNoise:
    """NOISE from a seed."""

    RETURN_TYPES = ("NOISE",)
    FUNCTION = "get_noise"
    CATEGORY = "sampling/custom_sampling/noise"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "noise_seed": (
                    "INT",
                    {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True},
                )
            }
        }

    def get_noise(self, noise_seed: int) -> tuple:
        return (Noise_RandomNoise(noise_seed),)

    execute = v3_execute("get_noise")


class DisableNoise:
    """NOISE that adds nothing."""

    RETURN_TYPES = ("NOISE",)
    FUNCTION = "get_noise"
    CATEGORY = "sampling/custom_sampling/noise"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {}}

    def get_noise(self) -> tuple:
        return (Noise_EmptyNoise(),)

    execute = v3_execute("get_noise")


class BasicGuider:
    """A GUIDER with one conditioning and no CFG."""

    RETURN_TYPES = ("GUIDER",)
    FUNCTION = "get_guider"
    CATEGORY = "sampling/custom_sampling/guiders"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"model": ("MODEL",), "conditioning": ("CONDITIONING",)}}

    def get_guider(self, model: Any, conditioning: list) -> tuple:
        guider = Guider_Basic(model)
        guider.set_conds(conditioning)
        return (guider,)

    execute = v3_execute("get_guider")


class CFGGuider:
    """A GUIDER with classifier-free guidance between positive and negative."""

    RETURN_TYPES = ("GUIDER",)
    FUNCTION = "get_guider"
    CATEGORY = "sampling/custom_sampling/guiders"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model": ("MODEL",),
                "positive": ("CONDITIONING",),
                "negative": ("CONDITIONING",),
                "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}),
            }
        }

    def get_guider(self, model: Any, positive: list, negative: list, cfg: float) -> tuple:
        guider = Guider_Basic(model)
        guider.set_conds(positive, negative)
        guider.set_cfg(cfg)
        return (guider,)

    execute = v3_execute("get_guider")


class SamplerCustomAdvanced:
    """Sample with a NOISE, a GUIDER, a SAMPLER and SIGMAS; also outputs the last denoised estimate."""

    RETURN_TYPES = ("LATENT", "LATENT")
    RETURN_NAMES = ("output", "denoised_output")
    FUNCTION = "sample"
    CATEGORY = "sampling/custom_sampling"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "noise": ("NOISE",),
                "guider": ("GUIDER",),
                "sampler": ("SAMPLER",),
                "sigmas": ("SIGMAS",),
                "latent_image": ("LATENT",),
            }
        }

    def sample(self, noise: Any, guider: Any, sampler: Any, sigmas: Any, latent_image: dict) -> tuple:
        model = guider.model_patcher
        latent = latent_image["samples"]
        ctx = current_context()
        progress = _nf.step_callback(ctx, model) if hasattr(model, "process_latent_out") else None
        x0: dict = {}

        def callback(step: int, denoised: torch.Tensor, x: torch.Tensor, total: int) -> None:
            x0["x0"] = denoised
            if progress is not None:
                progress(step, x, denoised, total)
            elif ctx is not None:
                ctx.progress(step + 1, total)

        samples = guider.sample(
            noise.generate_noise(latent_image),
            latent,
            sampler,
            sigmas,
            denoise_mask=latent_image.get("noise_mask"),
            callback=callback,
            seed=getattr(noise, "seed", None),
        )
        out = dict(latent_image)
        out["samples"] = samples.cpu()
        denoised = dict(out)
        if "x0" in x0:
            denoised["samples"] = model.process_latent_out(x0["x0"].cpu())
        return out, denoised

    execute = v3_execute("sample")


class SplitSigmas:
    """Split SIGMAS at ``step``: the first part ends where the second starts."""

    RETURN_TYPES = ("SIGMAS", "SIGMAS")
    RETURN_NAMES = ("high_sigmas", "low_sigmas")
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/sigmas"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"sigmas": ("SIGMAS",), "step": ("INT", {"default": 0, "min": 0, "max": 10000})}}

    def get_sigmas(self, sigmas: torch.Tensor, step: int) -> tuple:
        return sigmas[: step + 1], sigmas[step:]

    execute = v3_execute("get_sigmas")


class SplitSigmasDenoise:
    """Split SIGMAS so the second part is the last ``denoise`` fraction of the steps."""

    RETURN_TYPES = ("SIGMAS", "SIGMAS")
    RETURN_NAMES = ("high_sigmas", "low_sigmas")
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/sigmas"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "sigmas": ("SIGMAS",),
                "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def get_sigmas(self, sigmas: torch.Tensor, denoise: float) -> tuple:
        steps = max(sigmas.shape[-1] - 1, 0)
        low = round(steps * denoise)
        return sigmas[: steps - low + 1], sigmas[steps - low :]

    execute = v3_execute("get_sigmas")


__getattr__ = missing("comfy_extras.nodes_custom_sampler")

"""comfy_extras.nodes_align_your_steps for custom-node packs: NVIDIA's Align Your Steps schedules.

The 10-step noise levels are Table 3 of Sabour, Fidler and Kreis, "Align Your Steps: Optimizing
Sampling Schedules in Diffusion Models" (ICML 2024); other step counts interpolate them linearly
in log sigma, as the authors' how-to page describes."""

from __future__ import annotations

import numpy as np
import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import v3_execute

NOISE_LEVELS: dict[str, list[float]] = {
    "SD1": [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
    "SDXL": [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029],
    "SVD": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}


def loglinear_interp(t_steps: list[float] | np.ndarray, num_steps: int) -> np.ndarray:
    """``num_steps`` decreasing values spread over the decreasing ``t_steps`` by linear
    interpolation of their logarithms (the ends are kept)."""
    ys = np.log(np.asarray(t_steps, dtype=np.float64)[::-1])
    xs = np.linspace(0, 1, len(ys))
    new = np.interp(np.linspace(0, 1, num_steps), xs, ys)
    return np.exp(new)[::-1].copy()


class AlignYourStepsScheduler:
    """SIGMAS of the Align Your Steps schedule for SD1, SDXL or SVD (denoise < 1 keeps the tail)."""

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "model_type": (list(NOISE_LEVELS),),
                "steps": ("INT", {"default": 10, "min": 1, "max": 10000}),
                "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def get_sigmas(self, model_type: str, steps: int, denoise: float) -> tuple:
        if model_type not in NOISE_LEVELS:
            raise ValueError(f"model_type: {model_type!r} is not one of {list(NOISE_LEVELS)}")
        if denoise <= 0.0:
            return (torch.FloatTensor([]),)
        total = steps if denoise >= 1.0 else round(steps * denoise)
        sigmas = list(NOISE_LEVELS[model_type])
        if steps + 1 != len(sigmas):
            sigmas = list(loglinear_interp(sigmas, steps + 1))
        sigmas = sigmas[-(total + 1) :]
        sigmas[-1] = 0.0
        return (torch.FloatTensor(sigmas),)

    execute = v3_execute("get_sigmas")


__getattr__ = missing("comfy_extras.nodes_align_your_steps")

"""comfy_extras.nodes_gits for custom-node packs: the GITS scheduler class (Chen et al., "On the
Trajectory Regularity of ODE-based Diffusion Sampling", ICML 2024).

GITS schedules come from a dynamic-programming search over a teacher trajectory of the model; the
ready-made SD table ComfyUI ships is not in the paper or its repository (zju-pi/diff-sampler), and
NodeFlow does not invent one. The class imports and describes itself like ComfyUI's; running it
raises an error that names the alternatives."""

from __future__ import annotations

import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import v3_execute

from .nodes_align_your_steps import loglinear_interp

NOISE_LEVELS: dict[float, list[list[float]]] = {}  # coeff -> schedules for 2..20 steps; not shipped (see above)


class GITSScheduler:
    """SIGMAS of a GITS schedule for SD1-type models (not available in NodeFlow, see the module)."""

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "coeff": ("FLOAT", {"default": 1.20, "min": 0.80, "max": 1.50, "step": 0.05}),
                "steps": ("INT", {"default": 10, "min": 2, "max": 1000}),
                "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def get_sigmas(self, coeff: float, steps: int, denoise: float) -> tuple:
        if denoise <= 0.0:
            return (torch.FloatTensor([]),)
        table = NOISE_LEVELS.get(round(coeff, 2))
        if not table:
            raise ValueError(
                "GITSScheduler: NodeFlow does not ship GITS's precomputed noise levels (they are not "
                "published with the paper); use AlignYourStepsScheduler or BasicScheduler instead"
            )
        total = steps if denoise >= 1.0 else round(steps * denoise)
        sigmas = list(table[steps - 2]) if steps <= len(table) + 1 else list(loglinear_interp(table[-1], steps + 1))
        sigmas = sigmas[-(total + 1) :]
        sigmas[-1] = 0.0
        return (torch.FloatTensor(sigmas),)

    execute = v3_execute("get_sigmas")


__getattr__ = missing("comfy_extras.nodes_gits")

"""ComfyUI's ``comfy.samplers`` for custom-node packs, on NodeFlow's samplers, schedulers and guidance
(see nodeflow/comfy_compat/ksampler.py and guider.py)."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.guider import CFGGuider, calc_cond_batch, cfg_function, sample, sampling_function  # noqa: F401 -- re-exported: ComfyUI's module offers these names
from nodeflow.comfy_compat.ksampler import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    KSAMPLER,
    KSAMPLER_NAMES,
    SAMPLER_NAMES,
    SCHEDULER_NAMES,
    KSampler,
    calculate_sigmas,
    ksampler,
    sampler_object,
)

__getattr__ = missing("comfy.samplers")

"""ComfyUI's ``comfy.k_diffusion.sampling`` for custom-node packs: ``sample_<name>`` for every sampler
NodeFlow has (its own implementations, ComfyUI's signature) and the helpers packs import."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.k_diffusion import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    SAMPLE_FUNCTIONS,
    BrownianTreeNoiseSampler,
    append_dims,
    append_zero,
    default_noise_sampler,
    get_ancestral_step,
    get_sigmas_exponential,
    get_sigmas_karras,
    get_sigmas_polyexponential,
    get_sigmas_vp,
    sample_dpm_adaptive,
    sample_dpm_fast,
    to_d,
)

globals().update(SAMPLE_FUNCTIONS)

__getattr__ = missing("comfy.k_diffusion.sampling")

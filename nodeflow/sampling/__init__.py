"""Diffusion sampling math: noise schedules, sigma schedulers and ODE/SDE samplers.

Pure tensor code (no model loading): samplers take a ``denoise(x, sigma)`` callable
returning the clean-data estimate, in the ``x = x0 + sigma * noise`` parameterisation.
"""
from .samplers import (
    SAMPLER_NAMES,
    SAMPLERS,
    SamplerExtras,
    ancestral_split,
    ddim,
    ddpm,
    deis,
    dpm_2,
    dpm_2_ancestral,
    dpmpp_2m,
    dpmpp_2m_sde,
    dpmpp_2s_ancestral,
    dpmpp_3m_sde,
    dpmpp_sde,
    euler,
    euler_ancestral,
    get_sampler,
    heun,
    ipndm,
    lcm,
    lms,
    uni_pc,
    uni_pc_bh2,
)
from .schedules import (
    SCHEDULER_NAMES,
    SCHEDULERS,
    DiscreteSchedule,
    beta_cdf,
    beta_ppf,
    calculate_sigmas,
    sd_turbo_sigmas,
    split_for_denoise,
)

__all__ = [
    "DiscreteSchedule", "SCHEDULER_NAMES", "SCHEDULERS", "calculate_sigmas",
    "split_for_denoise", "sd_turbo_sigmas", "beta_cdf", "beta_ppf",
    "SamplerExtras", "SAMPLERS", "SAMPLER_NAMES", "get_sampler", "ancestral_split",
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms",
    "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_3m_sde",
    "ddpm", "lcm", "ddim", "uni_pc", "uni_pc_bh2", "ipndm", "deis",
]

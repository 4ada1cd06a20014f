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
from .samplers_cfg_pp import dpmpp_2m_cfg_pp, dpmpp_2s_ancestral_cfg_pp, euler_ancestral_cfg_pp, euler_cfg_pp
from .samplers_dpm_solver import dpm_adaptive, dpm_fast
from .samplers_res import res_multistep, res_multistep_ancestral, res_multistep_ancestral_cfg_pp, res_multistep_cfg_pp
from .samplers_slopes import gradient_estimation, gradient_estimation_cfg_pp, heunpp2, ipndm_v
from .samplers_er_sde import er_sde
from .samplers_sa_solver import sa_solver, sa_solver_pece
from .samplers_sde import (
    dpmpp_2m_sde_gpu,
    dpmpp_2m_sde_heun,
    dpmpp_2m_sde_heun_gpu,
    dpmpp_3m_sde_gpu,
    dpmpp_sde_gpu,
)
from .samplers_seeds import exp_heun_2_x0, exp_heun_2_x0_sde, seeds_2, seeds_3
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
    "euler_cfg_pp", "euler_ancestral_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "dpmpp_2m_cfg_pp",
    "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp",
    "gradient_estimation", "gradient_estimation_cfg_pp", "heunpp2", "ipndm_v", "dpm_fast", "dpm_adaptive",
    "dpmpp_sde_gpu", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu",
    "dpmpp_3m_sde_gpu", "exp_heun_2_x0", "exp_heun_2_x0_sde", "seeds_2", "seeds_3", "er_sde",
    "sa_solver", "sa_solver_pece",
]

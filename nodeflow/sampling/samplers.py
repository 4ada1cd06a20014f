"""Single-step samplers and the sampler registry.

Each sampler is ``fn(denoise, x, sigmas, *, extra=None) -> Tensor`` where
``denoise(x, sigma[batch])`` returns the model's clean-data estimate, ``x`` is the
starting latent already at noise level ``sigmas[0]`` and ``sigmas`` is the
decreasing schedule (usually ending in 0).  Whenever the next sigma is 0 a sampler
finishes with a plain Euler step, i.e. ``x = denoised``.

Multistep samplers live in :mod:`.samplers_multistep`, UniPC in :mod:`.samplers_unipc`, the
Brownian-tree SDE samplers in :mod:`.samplers_sde`, SEEDS / exponential Heun in
:mod:`.samplers_seeds`, ER-SDE in :mod:`.samplers_er_sde` and SA-Solver in
:mod:`.samplers_sa_solver`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._common import Denoiser, Run, SamplerExtras, ancestral_split, ancestral_split_flow, slope
from .flow_schedule import noise_latent
from .samplers_cfg_pp import dpmpp_2m_cfg_pp, dpmpp_2s_ancestral_cfg_pp, euler_ancestral_cfg_pp, euler_cfg_pp
from .samplers_dpm_solver import dpm_adaptive, dpm_fast
from .samplers_er_sde import er_sde
from .samplers_multistep import deis, dpmpp_2m, ipndm, lms
from .samplers_res import res_multistep, res_multistep_ancestral, res_multistep_ancestral_cfg_pp, res_multistep_cfg_pp
from .samplers_sa_solver import sa_solver, sa_solver_pece
from .samplers_sde import (
    dpmpp_2m_sde,
    dpmpp_2m_sde_gpu,
    dpmpp_2m_sde_heun,
    dpmpp_2m_sde_heun_gpu,
    dpmpp_3m_sde,
    dpmpp_3m_sde_gpu,
    dpmpp_sde,
    dpmpp_sde_gpu,
)
from .samplers_seeds import exp_heun_2_x0, exp_heun_2_x0_sde, seeds_2, seeds_3
from .samplers_slopes import gradient_estimation, gradient_estimation_cfg_pp, heunpp2, ipndm_v
from .samplers_unipc import uni_pc, uni_pc_bh2

__all__ = [
    "SAMPLERS",
    "SAMPLER_NAMES",
    "SamplerExtras",
    "ancestral_split",
    "ddim",
    "ddpm",
    "deis",
    "dpm_2",
    "dpm_2_ancestral",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "dpmpp_2s_ancestral",
    "dpmpp_3m_sde",
    "dpmpp_sde",
    "euler",
    "euler_ancestral",
    "get_sampler",
    "heun",
    "ipndm",
    "lcm",
    "lms",
    "uni_pc",
    "uni_pc_bh2",
]

Sampler = Callable[..., torch.Tensor]


@torch.no_grad()
def euler(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Euler's method on dx/dsigma = (x - D) / sigma (Karras et al. 2022, Alg. 1 style)."""
    return Run(denoise, x, sigmas, extra).walk(x, lambda i, x, d, s, s_next: x + slope(x, d, s) * (s_next - s))


@torch.no_grad()
def ddim(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Deterministic DDIM; in the sigma parameterisation this is exactly the Euler step."""
    return euler(denoise, x, sigmas, extra=extra)


def _ancestral(run: Run, x: torch.Tensor, move: Callable[..., torch.Tensor]) -> torch.Tensor:
    """The step every ancestral sampler shares: a deterministic ``move(x, denoised, s, down)`` to
    sigma_down, then fresh noise of size sigma_up (flow models: ComfyUI's RF variant, see
    ``ancestral_split_flow``)."""
    eta, s_noise = run.extra.eta, run.extra.s_noise
    if run.extra.flow:

        def flow_step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
            down, rescale, renoise = ancestral_split_flow(s, s_next, eta)
            x = denoised if down == 0 else move(x, denoised, s, down)
            if eta > 0:
                x = rescale * x + run.noise(s, s_next) * (s_noise * renoise)
            return x

        return run.walk(x, flow_step)

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        down, up = ancestral_split(s, s_next, eta)
        x = denoised if down == 0 else move(x, denoised, s, down)
        return x + run.noise(s, s_next) * (s_noise * up) if up > 0 else x

    return run.walk(x, step)


@torch.no_grad()
def euler_ancestral(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Euler step down to sigma_down, then fresh noise of size sigma_up."""
    run = Run(denoise, x, sigmas, extra)
    return _ancestral(run, x, lambda x, d, s, down: x + slope(x, d, s) * (down - s))


@torch.no_grad()
def heun(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Heun's second-order method (trapezoidal correction of the Euler step)."""
    run = Run(denoise, x, sigmas, extra)

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        d = slope(x, denoised, s)
        x_euler = x + d * (s_next - s)
        d_next = slope(x_euler, run.denoise(x_euler, s_next), s_next)
        return x + (d + d_next) * (0.5 * (s_next - s))

    return run.walk(x, step)


def _dpm2_move(run: Run, x: torch.Tensor, denoised: torch.Tensor, s: float, target: float) -> torch.Tensor:
    """DPM-Solver-2 style midpoint step from s to target (>0): slope taken at sqrt(s*target)."""
    s_mid = math.exp(0.5 * (math.log(s) + math.log(target)))
    x_mid = x + slope(x, denoised, s) * (s_mid - s)
    d_mid = slope(x_mid, run.denoise(x_mid, s_mid), s_mid)
    return x + d_mid * (target - s)


@torch.no_grad()
def dpm_2(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Second-order midpoint method with the midpoint at the geometric mean of the sigmas."""
    run = Run(denoise, x, sigmas, extra)
    return run.walk(x, lambda i, x, d, s, s_next: _dpm2_move(run, x, d, s, s_next))


@torch.no_grad()
def dpm_2_ancestral(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """dpm_2 down to sigma_down, then fresh noise of size sigma_up."""
    run = Run(denoise, x, sigmas, extra)
    return _ancestral(run, x, lambda x, d, s, down: _dpm2_move(run, x, d, s, down))


def _exp_step(x: torch.Tensor, denoised: torch.Tensor, s: float, target: float) -> torch.Tensor:
    """Exact ODE solution for a constant x0 estimate: D + (target / s) * (x - D)."""
    return denoised + (x - denoised) * (target / s)


@torch.no_grad()
def dpmpp_2s_ancestral(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """DPM-Solver++(2S) (single-step, midpoint in lambda) down to sigma_down, plus noise."""
    run = Run(denoise, x, sigmas, extra)

    def move(x: torch.Tensor, denoised: torch.Tensor, s: float, down: float) -> torch.Tensor:
        s_mid = math.sqrt(s * down)  # the midpoint in lambda = -log sigma is the geometric mean
        x_mid = _exp_step(x, denoised, s, s_mid)
        return _exp_step(x, run.denoise(x_mid, s_mid), s, down)

    return _ancestral(run, x, move)


@torch.no_grad()
def ddpm(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Ancestral DDPM: sample the posterior q(x_next | x, x0 = D) of the discrete chain.

    Works in the variance-preserving latent ``x * sqrt(ac)`` with ``ac = 1/(1+sigma^2)``
    and maps back; the step depends only on the two sigmas, so no schedule is needed.
    """
    run = Run(denoise, x, sigmas, extra)
    s_noise = run.extra.s_noise

    def step(i: int, x: torch.Tensor, denoised: torch.Tensor, s: float, s_next: float) -> torch.Tensor:
        ac, ac_next = 1.0 / (1.0 + s * s), 1.0 / (1.0 + s_next * s_next)
        one_minus_ac, one_minus_ac_next = s * s * ac, s_next * s_next * ac_next
        alpha = ac / ac_next  # the chain's alpha for this hop
        beta = (s * s - s_next * s_next) * ac  # 1 - alpha without cancellation
        x_vp = x * math.sqrt(ac)
        mean = denoised * (math.sqrt(ac_next) * beta / one_minus_ac) + x_vp * (
            math.sqrt(alpha) * one_minus_ac_next / one_minus_ac
        )
        var = one_minus_ac_next / one_minus_ac * beta
        x_vp = mean + run.noise(s, s_next) * (s_noise * math.sqrt(var))
        return x_vp / math.sqrt(ac_next)

    return run.walk(x, step)


@torch.no_grad()
def lcm(
    denoise: Denoiser, x: torch.Tensor, sigmas: torch.Tensor, *, extra: SamplerExtras | None = None
) -> torch.Tensor:
    """Latent consistency sampling: jump to the x0 estimate, re-noise to the next sigma."""
    run = Run(denoise, x, sigmas, extra)
    return run.walk(x, lambda i, x, d, s, s_next: noise_latent(run.extra.flow, s_next, run.noise(s, s_next), d))


SAMPLERS: dict[str, Sampler] = {
    "euler": euler,
    "euler_ancestral": euler_ancestral,
    "heun": heun,
    "dpm_2": dpm_2,
    "dpm_2_ancestral": dpm_2_ancestral,
    "lms": lms,
    "dpmpp_2s_ancestral": dpmpp_2s_ancestral,
    "dpmpp_sde": dpmpp_sde,
    "dpmpp_2m": dpmpp_2m,
    "dpmpp_2m_sde": dpmpp_2m_sde,
    "dpmpp_3m_sde": dpmpp_3m_sde,
    "ddpm": ddpm,
    "lcm": lcm,
    "ddim": ddim,
    "uni_pc": uni_pc,
    "uni_pc_bh2": uni_pc_bh2,
    "ipndm": ipndm,
    "deis": deis,
    "euler_cfg_pp": euler_cfg_pp,
    "euler_ancestral_cfg_pp": euler_ancestral_cfg_pp,
    "dpmpp_2s_ancestral_cfg_pp": dpmpp_2s_ancestral_cfg_pp,
    "dpmpp_2m_cfg_pp": dpmpp_2m_cfg_pp,
    "res_multistep": res_multistep,
    "res_multistep_cfg_pp": res_multistep_cfg_pp,
    "res_multistep_ancestral": res_multistep_ancestral,
    "res_multistep_ancestral_cfg_pp": res_multistep_ancestral_cfg_pp,
    "gradient_estimation": gradient_estimation,
    "gradient_estimation_cfg_pp": gradient_estimation_cfg_pp,
    "heunpp2": heunpp2,
    "ipndm_v": ipndm_v,
    "dpm_fast": dpm_fast,
    "dpm_adaptive": dpm_adaptive,
    "dpmpp_sde_gpu": dpmpp_sde_gpu,
    "dpmpp_2m_sde_gpu": dpmpp_2m_sde_gpu,
    "dpmpp_2m_sde_heun": dpmpp_2m_sde_heun,
    "dpmpp_2m_sde_heun_gpu": dpmpp_2m_sde_heun_gpu,
    "dpmpp_3m_sde_gpu": dpmpp_3m_sde_gpu,
    "exp_heun_2_x0": exp_heun_2_x0,
    "exp_heun_2_x0_sde": exp_heun_2_x0_sde,
    "seeds_2": seeds_2,
    "seeds_3": seeds_3,
    "er_sde": er_sde,
    "sa_solver": sa_solver,
    "sa_solver_pece": sa_solver_pece,
}
SAMPLER_NAMES: list[str] = list(SAMPLERS)


def get_sampler(name: str) -> Sampler:
    """The sampler function called ``name`` (ValueError listing the valid names otherwise)."""
    fn = SAMPLERS.get(name)
    if fn is None:
        raise ValueError(f"unknown sampler {name!r}; valid choices: {', '.join(SAMPLER_NAMES)}")
    return fn

"""comfy.k_diffusion.sampling on a toy denoiser: ComfyUI's calling convention over NodeFlow's samplers
(same numbers as calling NodeFlow's sampler directly), its noise sources and helpers."""

import math

import comfy.k_diffusion.sampling as kd
import pytest
import torch

from nodeflow.sampling.brownian import BrownianNoise
from nodeflow.sampling.samplers import SamplerExtras, ancestral_split, get_sampler
from nodeflow.sampling.schedules import DiscreteSchedule, karras_scheduler

SIGMAS = kd.get_sigmas_karras(6, 0.03, 14.6)


def toy(x, sigma, **extra_args):
    """A closed-form denoiser: shrink towards a fixed pattern, more at high noise."""
    s = sigma.reshape(-1, 1, 1, 1)
    return x / (1 + s**2) + torch.linspace(-1, 1, x.shape[-1]) * (s**2 / (1 + s**2))


def _x():
    return torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0)) * 14.6


@pytest.mark.parametrize(
    "name",
    [
        "euler",
        "heun",
        "dpmpp_2m",
        "lms",
        "euler_ancestral",
        "dpmpp_2m_sde",
        "dpmpp_sde",
        "ddpm",
        "lcm",
        "uni_pc",
        "res_multistep",
    ],
)
def test_comfy_signature_gives_nodeflow_numbers(name):
    steps = []
    out = getattr(kd, f"sample_{name}")(toy, _x(), SIGMAS, extra_args={"seed": 5}, callback=steps.append, disable=True)
    reference = get_sampler(name)(lambda x, s: toy(x, s), _x(), SIGMAS, extra=SamplerExtras(seed=5))
    assert torch.equal(out, reference)
    assert [s["i"] for s in steps] == list(range(len(SIGMAS) - 1))
    assert set(steps[0]) == {"x", "i", "sigma", "sigma_hat", "denoised"} and steps[0]["sigma"] == SIGMAS[0]


def test_options_noise_sampler_and_refusals():
    x = _x()
    quiet = kd.sample_euler_ancestral(toy, x, SIGMAS, extra_args={"seed": 1}, eta=0.0)
    assert torch.equal(quiet, kd.sample_euler(toy, x, SIGMAS))
    zeros = kd.sample_euler_ancestral(toy, x, SIGMAS, noise_sampler=lambda s, sn: torch.zeros_like(x), s_noise=1.0)
    assert not torch.equal(zeros, quiet)  # noise-free ancestral steps are not the ODE's
    assert torch.equal(kd.sample_lms(toy, x, SIGMAS, order=2), get_sampler("lms")(toy, x, SIGMAS, order=2))
    assert torch.equal(kd.sample_euler(toy, x, SIGMAS, s_churn=0.0), kd.sample_euler(toy, x, SIGMAS))
    with pytest.raises(ValueError, match=r"s_churn=0\.5 is not supported"):
        kd.sample_euler(toy, x, SIGMAS, s_churn=0.5)
    fast = kd.sample_dpm_fast(toy, x, 0.03, 14.6, 5)
    assert fast.shape == x.shape and torch.isfinite(fast).all()


def test_noise_sources_match_nodeflows():
    x = _x()
    ours = kd.default_noise_sampler(x, seed=7)
    generator = torch.Generator().manual_seed(8)  # NodeFlow's (and ComfyUI's CPU) per-step noise: seed + 1
    assert torch.equal(ours(1.0, 0.5), torch.randn(x.shape, generator=generator))
    tree = kd.BrownianTreeNoiseSampler(x, SIGMAS[-2], SIGMAS[0], seed=3, cpu=True)
    reference = BrownianNoise(x.shape, [float(SIGMAS[-2]), float(SIGMAS[0])], 3)
    assert torch.equal(tree(SIGMAS[1], SIGMAS[2]), reference(float(SIGMAS[1]), float(SIGMAS[2])))


def test_helpers():
    schedule = DiscreteSchedule.sd()
    assert torch.allclose(
        kd.get_sigmas_karras(10, schedule.sigma_min, schedule.sigma_max), karras_scheduler(schedule, 10), rtol=1e-5
    )
    assert torch.allclose(
        kd.get_sigmas_exponential(5, 0.1, 10.0)[:-1], torch.tensor([10.0, 3.1623, 1.0, 0.3162, 0.1]), rtol=1e-4
    )
    assert kd.get_sigmas_polyexponential(4, 0.1, 10.0)[-1] == 0 and kd.get_sigmas_vp(4).shape == (5,)
    down, up = kd.get_ancestral_step(2.0, 1.0, eta=1.0)
    assert (down, up) == pytest.approx(ancestral_split(2.0, 1.0, 1.0))
    assert kd.get_ancestral_step(2.0, 1.0, eta=0.0) == (1.0, 0.0)
    x, denoised = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    assert torch.equal(kd.to_d(x, torch.tensor([2.0]), denoised), torch.full_like(x, 0.5))
    assert math.isclose(float(kd.append_zero(torch.tensor([1.0]))[-1]), 0.0)

"""Rectified-flow sampling (SD3 / Flux / AuraFlow): the sigma tables as ComfyUI defines them, and every
sampler x scheduler pair on a model whose exact denoiser is known (Gaussian data), which must
reproduce the data's mean and spread; the ModelSampling* nodes switch a MODEL to flow sampling."""

import math

import pytest
import torch

from nodeflow.models.diffusion_model import DiffusionModel
from nodeflow.models.patching import PatchedModule
from nodeflow.nodes.model_sampling_nodes import ModelSamplingAuraFlow, ModelSamplingFlux, ModelSamplingSD3
from nodeflow.nodes.sampling_nodes import KSampler
from nodeflow.sampling.flow_schedule import FlowSchedule, flux_resolution_shift
from nodeflow.sampling.samplers import SAMPLER_NAMES
from nodeflow.sampling.schedules import SCHEDULER_NAMES, calculate_sigmas

MU, TAU = 0.5, 0.3  # the data: every latent value ~ N(MU, TAU^2), independently


class GaussianFlowNetwork(torch.nn.Module):
    """The exact velocity of Gaussian data under x = (1 - s) x0 + s n, taking timestep = s * scale."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.calls = []
        self.weight = torch.nn.Parameter(torch.ones(()))

    def forward(self, x, timestep, encoder_hidden_states=None, added_cond_kwargs=None, return_dict=False):
        s = (timestep / self.scale).reshape(-1, 1, 1, 1).to(x)
        self.calls.append(float(timestep.reshape(-1)[0]))
        a = 1 - s
        x0 = MU + a * TAU**2 / (a**2 * TAU**2 + s**2) * (x - a * MU)
        return ((x - x0) / s * self.weight,)


def flow_model(node=ModelSamplingSD3, scale=1000.0, **kwargs):
    base = DiffusionModel(PatchedModule(GaussianFlowNetwork(scale)), "sd1")
    kwargs = kwargs or {"shift": 3.0}
    node_obj = node()
    node_obj.ctx = None
    return node_obj.run(base, **kwargs)


def run(model, sampler, scheduler, steps=12, denoise=1.0, latent=None, seed=1, cfg=1.0):
    node = KSampler()
    node.ctx = None
    cond = [[torch.zeros(1, 77, 768), {}]]
    latent = latent if latent is not None else torch.zeros(1, 4, 32, 32)
    out = node.run(model, seed, steps, cfg, sampler, scheduler, cond, cond, {"samples": latent}, denoise)
    samples = out["samples"] if isinstance(out, dict) else out[0]["samples"]
    return model.process_latent_in(samples)  # back in the network's space, where the data lives


def test_sd3_table_is_comfyui_s():
    s = FlowSchedule.sd3(3.0)
    t = torch.arange(1, 1001) / 1000
    assert torch.equal(s.sigmas, (3.0 * t / (1 + 2.0 * t)).float())
    assert s.sigma_max == 1.0 and s.sigma_min == pytest.approx(0.003 / 1.002)
    assert float(s.timestep(torch.tensor(0.5))) == 500.0
    assert s.percent_to_sigma(0.0) == 1.0 and s.percent_to_sigma(1.0) == 0.0
    assert s.percent_to_sigma(0.5) == pytest.approx(1.5 / 2.0)


def test_flux_table_and_resolution_shift():
    assert flux_resolution_shift(1024, 1024) == pytest.approx(1.15)
    assert flux_resolution_shift(256, 256) == pytest.approx(0.5)
    s = FlowSchedule.flux(1.15)
    assert s.num_timesteps == 10000 and s.sigma_max == pytest.approx(1.0)
    t = 0.25
    assert float(s.sigma(torch.tensor(t))) == pytest.approx(math.exp(1.15) / (math.exp(1.15) + 1 / t - 1), rel=1e-6)
    assert float(s.timestep(torch.tensor(0.3))) == pytest.approx(0.3)  # Flux networks get sigma itself


def test_schedulers_on_flow_tables_start_at_one_and_decrease():
    for schedule in (FlowSchedule.sd3(3.0), FlowSchedule.flux(1.15), FlowSchedule.aura_flow(1.73)):
        for name in SCHEDULER_NAMES:
            sigmas = calculate_sigmas(schedule, name, 10)
            assert 0.9 < float(sigmas[0]) <= 1.0 + 1e-6, (name, float(sigmas[0]))
            assert float(sigmas[-1]) == 0.0 and bool((sigmas[:-1] > 0).all()), name
            assert bool((sigmas[1:] <= sigmas[:-1]).all()), name


def test_network_gets_sigma_times_multiplier_and_the_noise_is_flow_interpolated():
    model = flow_model()
    net = model.unet.module
    run(model, "euler", "simple", steps=4)
    sigmas = calculate_sigmas(FlowSchedule.sd3(3.0), "simple", 4)
    assert net.calls == pytest.approx([float(s) * 1000 for s in sigmas[:-1]], rel=1e-6)
    aura = flow_model(ModelSamplingAuraFlow, scale=1.0, shift=1.73)
    run(aura, "euler", "normal", steps=3)
    assert max(aura.unet.module.calls) == pytest.approx(1.0)


# samplers that add noise the VE way on a flow model, as ComfyUI's do (no CONST branch in ComfyUI:
# ddpm, res_multistep's ancestral step, and the dpmpp_2s_ancestral_cfg_pp formulation NodeFlow follows)
VE_ONLY = {"ddpm", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "dpmpp_2s_ancestral_cfg_pp"}


# these stop at the last non-zero sigma and return x there, as ComfyUI's do
ENDS_NOISY = {"dpm_fast", "dpm_adaptive"}


def expected_std(model, scheduler, steps, sampler="euler"):
    """The spread of the last denoised estimate when x had the exact distribution at the last
    non-zero sigma s: the posterior mean shrinks it to a TAU^2 / sqrt(a^2 TAU^2 + s^2), a = 1 - s."""
    from nodeflow.sampling.run import ksampler_sigmas

    s = float(ksampler_sigmas(model, scheduler, steps, sampler_name=sampler)[-2])
    a = 1 - s
    return a * TAU**2 / math.sqrt(a * a * TAU**2 + s * s)


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_every_sampler_reproduces_the_data_distribution(sampler):
    model = flow_model()
    x = run(model, sampler, "simple", steps=30)
    assert torch.isfinite(x).all()
    mean, std = float(x.mean()), float(x.std())
    if sampler in VE_ONLY or sampler in ENDS_NOISY:
        return  # they run (finite output); their spread is not checked
    # the mean tells flow noise from VE noise (a VE ancestral step on this model ends near 0.63)
    assert mean == pytest.approx(MU, abs=0.03), (sampler, mean, std)
    if sampler != "lcm":  # consistency sampling re-noises the posterior mean: its spread is smaller by design
        want = expected_std(model, "simple", 30, sampler)
        assert std == pytest.approx(want, rel=0.2), (sampler, mean, std, want)


@pytest.mark.parametrize("scheduler", SCHEDULER_NAMES)
def test_every_scheduler_on_sd3_and_flux_shifts(scheduler):
    for model in (
        flow_model(),
        flow_model(ModelSamplingFlux, scale=1.0, max_shift=1.15, base_shift=0.5, width=1024, height=1024),
    ):
        x = run(model, "heun", scheduler, steps=20)
        assert float(x.mean()) == pytest.approx(MU, abs=0.03), scheduler
        assert float(x.std()) == pytest.approx(expected_std(model, scheduler, 20, "heun"), rel=0.1), scheduler


def test_img2img_starts_on_the_flow_line():
    """denoise 0.5 from a latent: the first network input is s0 noise + (1 - s0) latent."""
    model = flow_model()
    seen = []
    net = model.unet.module
    original = net.forward

    def spy(x, timestep, **kw):
        seen.append(x.clone())
        return original(x, timestep, **kw)

    net.forward = spy
    latent = torch.full((1, 4, 8, 8), 0.7)
    run(model, "euler", "simple", steps=4, denoise=0.5, latent=latent, seed=3)
    s0 = float(net.calls[0]) / 1000
    from nodeflow.sampling.run import prepare_noise

    noise = prepare_noise(latent, 3)
    want = s0 * noise + (1 - s0) * model.process_latent_in(latent)
    assert torch.allclose(seen[0], want, atol=1e-5)

"""The unconditional estimate CFG++ samplers step along: the Guider records it, the noise-mask
wrapper passes it through as the network gave it (as ComfyUI), cfg 1 keeps the negative for these samplers (as ComfyUI), the
samplers read it, and SamplerCustom + KSamplerSelect gets the same numbers as KSampler."""

import math

import pytest
import torch

from nodeflow.nodes.sampling_nodes import BasicScheduler, KSamplerSelect, SamplerCustom
from nodeflow.sampling import SamplerExtras, calculate_sigmas, get_sampler
from nodeflow.sampling.guidance import Guider, with_noise_mask
from tests.sampling.comfy_reference import conditioning, expected, toy_model

CFG_PP = [
    "euler_cfg_pp",
    "euler_ancestral_cfg_pp",
    "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_2m_cfg_pp",
    "res_multistep_cfg_pp",
    "res_multistep_ancestral_cfg_pp",
    "gradient_estimation_cfg_pp",
]
SHAPE = (1, 4, 8, 8)


def toy_guider(cfg: float, **kw) -> Guider:
    return Guider(toy_model(), conditioning(0.1), conditioning(-0.1), cfg, SHAPE, **kw)


def gaussian_denoiser(x, sigma):
    sigma = sigma.view(-1, *[1] * (x.ndim - 1)).to(x.dtype)
    return 0.7 + 0.09 / (0.09 + sigma**2) * (x - 0.7)


class Guided:
    """A stub guider: guided estimate D = 2 * base - uncond with a fixed shift as the uncond."""

    def __init__(self):
        self.last_uncond = None

    def __call__(self, x, sigma):
        base = gaussian_denoiser(x, sigma)
        self.last_uncond = base - 0.25
        return base + 0.25


def test_guider_records_the_uncond_estimate():
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(0)) * 3
    sigma = torch.tensor([2.5])
    guider = toy_guider(4.0)
    guided = guider(x, sigma)
    cond = toy_guider(1.0)(x, sigma)  # cfg 1: the positive alone
    uncond = Guider(toy_model(), conditioning(-0.1), None, 1.0, SHAPE)(x, sigma)
    assert torch.allclose(guider.last_uncond, uncond, atol=1e-6)
    assert torch.allclose(guided, uncond + 4.0 * (cond - uncond), atol=1e-5)


def test_cfg_1_uses_cond_as_uncond_unless_the_sampler_needs_it():
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(1)) * 3
    sigma = torch.tensor([1.5])
    plain = toy_guider(1.0)
    out = plain(x, sigma)
    assert plain.negative == [] and torch.equal(plain.last_uncond, out)
    kept = toy_guider(1.0, keep_uncond=True)
    assert torch.allclose(kept(x, sigma), out, atol=1e-6)  # uncond + 1 * (cond - uncond)
    assert not torch.allclose(kept.last_uncond, out, atol=1e-3)
    assert all(getattr(get_sampler(n), "needs_uncond", False) for n in CFG_PP)
    assert not any(getattr(get_sampler(n), "needs_uncond", False) for n in ("euler", "res_multistep"))


def test_noise_mask_passes_the_raw_uncond_through():
    latent = torch.randn(SHAPE, generator=torch.Generator().manual_seed(2))
    noise = torch.randn(SHAPE, generator=torch.Generator().manual_seed(3))
    mask = torch.zeros(SHAPE)
    mask[..., :4] = 1.0
    mask[..., 4] = 0.5
    guider = toy_guider(4.0)
    masked = with_noise_mask(guider, latent, noise, mask)
    assert masked.last_uncond is None  # nothing evaluated yet
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(4)) * 2
    out = masked(x, torch.tensor([2.0]))
    raw = guider.last_uncond
    assert masked.last_uncond is raw  # ComfyUI's samplers see it unmasked too
    assert torch.equal(out[..., 5:], latent[..., 5:])  # while the guided estimate is restored outside
    plain = with_noise_mask(gaussian_denoiser, latent, noise, mask)
    plain(x, torch.tensor([2.0]))
    assert plain.last_uncond is None  # no guidance: samplers use the estimate


def test_euler_cfg_pp_step_by_hand():
    x0 = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    seen = []
    get_sampler("euler_cfg_pp")(
        Guided(),
        x0.clone(),
        torch.tensor([3.0, 1.2, 0.0], dtype=torch.float64),
        extra=SamplerExtras(callback=lambda i, x, d, n: seen.append(x)),
    )
    base = gaussian_denoiser(x0, torch.tensor([3.0]))
    assert torch.allclose(seen[0], (base + 0.25) + (x0 - (base - 0.25)) * (1.2 / 3.0))


@pytest.mark.parametrize(
    "name,plain",
    [
        ("euler_cfg_pp", "euler"),
        ("euler_ancestral_cfg_pp", "euler_ancestral"),
        ("dpmpp_2m_cfg_pp", "dpmpp_2m"),
        ("res_multistep_cfg_pp", "res_multistep"),
        ("res_multistep_ancestral_cfg_pp", "res_multistep_ancestral"),
        ("gradient_estimation_cfg_pp", "gradient_estimation"),
    ],
)
def test_without_guidance_cfg_pp_is_the_plain_sampler(name, plain):
    x = torch.randn(64, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 14.6
    sigmas = calculate_sigmas(toy_model().schedule, "karras", 10).double()
    a = get_sampler(name)(gaussian_denoiser, x.clone(), sigmas, extra=SamplerExtras(seed=3))
    b = get_sampler(plain)(gaussian_denoiser, x.clone(), sigmas, extra=SamplerExtras(seed=3))
    assert torch.allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("name", CFG_PP)
def test_cfg_pp_samplers_follow_the_uncond(name):
    x = torch.randn(64, generator=torch.Generator().manual_seed(6)) * 14.6
    sigmas = calculate_sigmas(toy_model().schedule, "karras", 6)
    guided = get_sampler(name)(Guided(), x.clone(), sigmas, extra=SamplerExtras(seed=1))
    shifted = lambda x, s: gaussian_denoiser(x, s) + 0.25  # noqa: E731  (the guided estimate, no uncond)
    plain = get_sampler(name)(shifted, x.clone(), sigmas, extra=SamplerExtras(seed=1))
    assert bool(torch.isfinite(guided).all()) and not torch.allclose(guided, plain, atol=1e-3)


def _sampler_custom(name: str, cfg: float, negative: float, steps: int = 8):
    model = toy_model()
    selected = KSamplerSelect().run(name)
    sigmas = BasicScheduler().run(model, "normal", steps, 1.0)
    node = SamplerCustom()
    node.ctx = None
    out, denoised = node.run(
        model,
        True,
        42,
        cfg,
        conditioning(0.1),
        conditioning(negative),
        selected,
        sigmas,
        {"samples": torch.zeros(SHAPE)},
    )
    return out["samples"], denoised["samples"]


@pytest.mark.parametrize("name", ["euler_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "res_multistep_cfg_pp"])
def test_sampler_custom_with_a_cfg_pp_sampler_matches_comfyui(name):
    got, denoised = _sampler_custom(name, 4.0, -0.1)
    want = expected(f"txt2img/{name}/normal")
    assert float((got - want).abs().max() / want.abs().max()) < 1e-5
    assert denoised.shape == got.shape


def test_sampler_custom_at_cfg_1_evaluates_the_negative_for_cfg_pp():
    # ComfyUI disables its cfg-1 shortcut for CFG++ samplers: the negative prompt still matters
    assert not torch.allclose(
        _sampler_custom("euler_cfg_pp", 1.0, -0.1, 4)[0], _sampler_custom("euler_cfg_pp", 1.0, 0.3, 4)[0], atol=1e-4
    )
    assert torch.equal(_sampler_custom("euler", 1.0, -0.1, 4)[0], _sampler_custom("euler", 1.0, 0.3, 4)[0])


def test_dpmpp_2s_ancestral_cfg_pp_is_comfyuis_formulation():
    """Without guidance it is not DPM-Solver++(2S): the second stage starts from x + D - D_mid
    (see its docstring), so it is pinned to one step computed by hand."""
    x = torch.tensor([3.0, -1.0], dtype=torch.float64)
    s, s_next = 2.0, 0.5
    out = get_sampler("dpmpp_2s_ancestral_cfg_pp")(
        Guided(), x.clone(), torch.tensor([s, s_next], dtype=torch.float64), extra=SamplerExtras(eta=0.0)
    )
    d = gaussian_denoiser(x, torch.tensor([s]))
    s_mid = math.sqrt(s * s_next)
    x_mid = (d + 0.25) + (x - (d - 0.25)) * (s_mid / s)
    d_mid = gaussian_denoiser(x_mid, torch.tensor([s_mid]))
    start = x + (d + 0.25) - (d_mid - 0.25)
    assert torch.allclose(out, (d_mid + 0.25) + (start - (d_mid + 0.25)) * (s_next / s))


@pytest.mark.parametrize("name", ["euler_cfg_pp", "res_multistep_ancestral_cfg_pp"])
def test_masked_ksampler_with_a_cfg_pp_sampler_keeps_the_unmasked_latent(name):
    from nodeflow.sampling.run import SampleRequest, ksample

    start = torch.randn(SHAPE, generator=torch.Generator().manual_seed(7)) * 3
    mask = torch.zeros(1, 64, 64)
    mask[:, :, :32] = 1.0
    req = SampleRequest(
        toy_model(), conditioning(0.1), conditioning(-0.1), {"samples": start, "noise_mask": mask}, 42, 4.0, name
    )
    out = ksample(req, "normal", 6, denoise=0.6)["samples"]
    assert bool(torch.isfinite(out).all())
    assert torch.allclose(out[..., 4:], start[..., 4:], atol=1e-5)
    assert not torch.allclose(out[..., :4], start[..., :4], atol=1e-2)

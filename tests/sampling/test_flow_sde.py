"""SDE-type samplers on rectified-flow models (nodeflow/sampling/flow_sde.py): half-log-SNR time and
alpha = 1 - sigma scaling, as ComfyUI's CONST branches compute them.

On Gaussian data the exact denoiser is known, so each sampler must reproduce the data distribution
(mean within a few standard errors of the sample count, spread close to the posterior's);
the step formulas are checked against ComfyUI's CONST formulas written out in flow variables; eta 0
must equal the deterministic sampler ComfyUI's math reduces it to; VE models are untouched."""

import math

import pytest
import torch

from nodeflow.sampling._common import SamplerExtras
from nodeflow.sampling.flow_schedule import FlowSchedule
from nodeflow.sampling.flow_sde import offset_first_sigma, to_flow, to_ve
from nodeflow.sampling.samplers import SAMPLERS
from nodeflow.sampling.schedules import DiscreteSchedule, calculate_sigmas

MU, TAU = 0.5, 0.3
SCHEDULE = FlowSchedule.sd3(3.0)
SDE_SAMPLERS = [
    "dpmpp_sde",
    "dpmpp_sde_gpu",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun",
    "dpmpp_2m_sde_heun_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "er_sde",
    "sa_solver",
    "sa_solver_pece",
    "seeds_2",
    "seeds_3",
    "exp_heun_2_x0_sde",
    "euler_ancestral_cfg_pp",
]


def exact_denoiser(x, sigma):
    """The posterior mean of Gaussian data N(MU, TAU^2) given x = (1 - s) x0 + s n."""
    s = sigma.reshape(-1, *([1] * (x.ndim - 1))).to(x)
    a = 1 - s
    return MU + a * TAU**2 / (a**2 * TAU**2 + s**2) * (x - a * MU)


def start(shape=(1, 4, 64, 64), dtype=torch.float32):
    return torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=dtype)


@pytest.mark.parametrize("sampler", SDE_SAMPLERS)
def test_sde_sampler_with_noise_reaches_the_data_distribution(sampler):
    steps = 200
    sigmas = calculate_sigmas(SCHEDULE, "simple", steps)
    x = start()
    out = SAMPLERS[sampler](exact_denoiser, x, sigmas, extra=SamplerExtras(seed=5, eta=1.0, schedule=SCHEDULE))
    n = out.numel()
    s = float(sigmas[-2])  # the last step jumps to the posterior mean at s, which shrinks the spread
    a = 1 - s
    want_std = a * TAU**2 / math.sqrt(a * a * TAU**2 + s * s)
    assert abs(float(out.mean()) - MU) < 5 * TAU / math.sqrt(n) + 0.005, (sampler, float(out.mean()))
    # 5 standard errors of a sample std plus the discretisation error left at 200 steps
    assert float(out.std()) == pytest.approx(want_std, rel=5 / math.sqrt(2 * n) + 0.04), (sampler, float(out.std()))


def test_a_ve_noise_step_would_not_reach_it():
    """The same sampler with the flow flag off (VE noise on a flow model) misses the data: the check
    above tells the two apart."""
    sigmas = calculate_sigmas(SCHEDULE, "simple", 60)
    off = SAMPLERS["dpmpp_2m_sde"](exact_denoiser, start(), sigmas, extra=SamplerExtras(seed=5, eta=1.0))
    assert abs(float(off.mean()) - MU) > 0.05 or abs(float(off.std()) / 0.3 - 1) > 0.2


def comfy_const_2m_sde(x, sigmas, noise, eta=1.0):
    """DPM-Solver++(2M) SDE (midpoint) as ComfyUI computes it on a CONST model, in flow variables."""
    sig = [float(s) for s in sigmas]
    sig = offset_first_sigma(sig, SCHEDULE)
    old, h_last = None, None
    for i in range(len(sig) - 1):
        s, t = sig[i], sig[i + 1]
        d = exact_denoiser(x, torch.tensor([s], dtype=torch.float64))
        if t == 0:
            x = d
            continue
        lam_s, lam_t = math.log((1 - s) / s), math.log((1 - t) / t)
        h = lam_t - lam_s
        alpha_t = t * math.exp(lam_t)  # = 1 - t
        x = t / s * math.exp(-h * eta) * x + alpha_t * -math.expm1(-h * (eta + 1)) * d
        if old is not None:
            x = x + 0.5 * alpha_t * -math.expm1(-h * (eta + 1)) * (h / h_last) * (d - old)
        x = x + noise(s, t) * t * math.sqrt(-math.expm1(-2 * h * eta))
        old, h_last = d, h
    return x


def comfy_const_dpmpp_sde(x, sigmas, noise, eta=1.0, r=0.5):
    """DPM-Solver++ (stochastic, 2 stages) as ComfyUI computes it on a CONST model."""
    sig = offset_first_sigma([float(s) for s in sigmas], SCHEDULE)

    def ancestral(v_from, v_to):
        up = min(v_to, eta * math.sqrt(v_to**2 * (v_from**2 - v_to**2) / v_from**2))
        return math.sqrt(v_to**2 - up**2), up

    for i in range(len(sig) - 1):
        s, t = sig[i], sig[i + 1]
        d = exact_denoiser(x, torch.tensor([s], dtype=torch.float64))
        if t == 0:
            x = d
            continue
        lam_s, lam_t = math.log((1 - s) / s), math.log((1 - t) / t)
        h = lam_t - lam_s
        lam_1 = lam_s + r * h
        s_1 = 1 / (1 + math.exp(lam_1))
        alpha_s, alpha_1, alpha_t = 1 - s, 1 - s_1, 1 - t
        sd, su = ancestral(math.exp(-lam_s), math.exp(-lam_1))
        h_ = -math.log(sd) - lam_s
        x_2 = (alpha_1 / alpha_s) * math.exp(-h_) * x - alpha_1 * math.expm1(-h_) * d
        x_2 = x_2 + alpha_1 * noise(s, s_1) * su
        d_2 = exact_denoiser(x_2, torch.tensor([s_1], dtype=torch.float64))
        sd, su = ancestral(math.exp(-lam_s), math.exp(-lam_t))
        h_ = -math.log(sd) - lam_s
        mix = (1 - 1 / (2 * r)) * d + 1 / (2 * r) * d_2
        x = (alpha_t / alpha_s) * math.exp(-h_) * x - alpha_t * math.expm1(-h_) * mix
        x = x + alpha_t * noise(s, t) * su
    return x


def keyed_noise(shape):
    """A noise source that depends only on the (rounded) sigmas asked for, so two samplers asking
    for the same interval get the same draw."""

    def noise(s, s_next):
        key = hash((round(float(s), 6), round(float(s_next), 6))) % (2**31)
        return torch.randn(shape, generator=torch.Generator().manual_seed(key), dtype=torch.float64)

    return noise


@pytest.mark.parametrize(
    ("sampler", "reference"), [("dpmpp_2m_sde", comfy_const_2m_sde), ("dpmpp_sde", comfy_const_dpmpp_sde)]
)
def test_steps_equal_comfyuis_const_formulas(sampler, reference):
    sigmas = calculate_sigmas(SCHEDULE, "simple", 8)
    assert float(sigmas[0]) == 1.0  # the offset of the first sigma is exercised
    x = start((1, 2, 4, 4), torch.float64)
    noise = keyed_noise(x.shape)
    want = reference(x.clone(), sigmas, noise)
    got = SAMPLERS[sampler](exact_denoiser, x.clone(), sigmas, extra=SamplerExtras(noise=noise, schedule=SCHEDULE))
    # dpmpp_sde's midpoint sigma is rounded through float32 (as ComfyUI's is), hence not 1e-12
    assert torch.allclose(got, want, rtol=1e-6, atol=1e-6), float((got - want).abs().max())


def test_first_sigma_offset_and_coordinates():
    assert offset_first_sigma([1.0, 0.5, 0.0], SCHEDULE)[0] == pytest.approx(3 * 0.9999 / (1 + 2 * 0.9999))
    assert offset_first_sigma([0.9, 0.5, 0.0], SCHEDULE) == [0.9, 0.5, 0.0]
    assert to_flow(to_ve(0.3)) == pytest.approx(0.3) and to_ve(0.0) == 0.0
    assert to_ve(0.5) == 1.0  # lambda = log((1 - s) / s) = 0 <=> sigma_ve = 1


@pytest.mark.parametrize(
    ("noisy", "plain", "noisy_options"),
    [
        ("euler_ancestral_cfg_pp", "euler_cfg_pp", {}),
        ("exp_heun_2_x0_sde", "exp_heun_2_x0", {}),
        ("seeds_2", "exp_heun_2_x0", {"r": 1.0, "solver_type": "phi_2"}),
    ],
)
def test_eta_zero_is_the_deterministic_sampler(noisy, plain, noisy_options):
    """ComfyUI defines euler_cfg_pp as euler_ancestral_cfg_pp at eta 0, and exp_heun_2_x0 as SEEDS-2
    with r = 1, phi_2 and eta 0: on flow models too."""
    sigmas = calculate_sigmas(SCHEDULE, "simple", 10)
    x = start((1, 4, 8, 8))
    extra = SamplerExtras(seed=2, eta=0.0, schedule=SCHEDULE)
    a = SAMPLERS[noisy](exact_denoiser, x.clone(), sigmas, extra=extra, **noisy_options)
    b = SAMPLERS[plain](exact_denoiser, x.clone(), sigmas, extra=extra)
    assert torch.equal(a, b)


def test_sde_at_eta_zero_is_the_probability_flow_ode():
    """2M SDE at eta 0 is DPM-Solver++(2M) in half-log-SNR: deterministic (no noise asked for) and on
    the ODE it reaches the data distribution."""
    sigmas = calculate_sigmas(SCHEDULE, "simple", 40)
    asked = []

    def noise(s, s_next):
        asked.append((s, s_next))
        return torch.zeros(1)

    x = start()
    out = SAMPLERS["dpmpp_2m_sde"](
        exact_denoiser, x, sigmas, extra=SamplerExtras(eta=0.0, noise=noise, schedule=SCHEDULE)
    )
    assert asked == []
    assert float(out.mean()) == pytest.approx(MU, abs=0.01)
    s = float(sigmas[-2])
    want = (1 - s) * TAU**2 / math.sqrt((1 - s) ** 2 * TAU**2 + s * s)
    assert float(out.std()) == pytest.approx(want, rel=0.03)


def test_ve_models_are_untouched():
    """Without a flow schedule the decorated samplers are the VE ones: same numbers as the undecorated
    function (``__wrapped__``) on an SD schedule."""
    schedule = DiscreteSchedule.sd()
    sigmas = calculate_sigmas(schedule, "karras", 6)
    x = start((1, 4, 8, 8)) * float(sigmas[0])

    def denoise(x, sigma):
        return x / (1 + sigma.reshape(-1, 1, 1, 1) ** 2)

    for name in SDE_SAMPLERS:
        fn = SAMPLERS[name]
        extra = SamplerExtras(seed=4, schedule=schedule)
        inner = fn
        while hasattr(inner, "__wrapped__"):
            inner = inner.__wrapped__
        if inner is fn:  # the _gpu names call their decorated sibling
            continue
        assert torch.equal(fn(denoise, x.clone(), sigmas, extra=extra), inner(denoise, x.clone(), sigmas, extra=extra))


def test_callback_sees_flow_x():
    sigmas = calculate_sigmas(SCHEDULE, "simple", 6)
    seen = []
    x = start((1, 1, 16, 16))
    out = SAMPLERS["er_sde"](
        exact_denoiser,
        x,
        sigmas,
        extra=SamplerExtras(seed=1, schedule=SCHEDULE, callback=lambda i, x, d, n: seen.append((i, x.std()))),
    )
    assert [i for i, _ in seen] == list(range(6))
    # x at sigma s has spread sqrt((1 - s)^2 TAU^2 + s^2): below 1 everywhere on the flow line
    assert all(float(std) < 1.1 for _, std in seen), seen
    assert torch.isfinite(out).all()


def test_a_run_that_stops_early_hands_back_x_on_the_flow_line():
    """Sigmas ending above 0 (a split schedule): the result is x at that sigma, (1 - s) x0 + s n."""
    sigmas = calculate_sigmas(SCHEDULE, "simple", 40)[:31]  # stop at sigma ~0.2
    s = float(sigmas[-1])
    out = SAMPLERS["dpmpp_2m_sde"](exact_denoiser, start(), sigmas, extra=SamplerExtras(seed=3, schedule=SCHEDULE))
    assert float(out.mean()) == pytest.approx((1 - s) * MU, abs=0.01)
    assert float(out.std()) == pytest.approx(math.sqrt((1 - s) ** 2 * TAU**2 + s * s), rel=0.05)


def test_sigma_one_after_the_first_is_a_clear_error():
    sigmas = torch.tensor([1.0, 1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="below 1 after the first"):
        SAMPLERS["er_sde"](exact_denoiser, start((1, 1, 4, 4)), sigmas, extra=SamplerExtras(schedule=SCHEDULE))

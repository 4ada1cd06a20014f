"""dpm_fast / dpm_adaptive (range of the schedule, call budget, progress, accuracy), ipndm_v on
equal steps, and the convergence order of the added deterministic samplers."""

import math

import pytest
import torch

from nodeflow.sampling import SamplerExtras, calculate_sigmas, get_sampler
from tests.helpers.gaussian_target import MU, S, gaussian_denoiser, ode_error
from tests.sampling.comfy_reference import toy_model


def exact(x: torch.Tensor, sigma_from: float, sigma_to: float) -> torch.Tensor:
    """The probability-flow ODE solution for the Gaussian target."""
    return MU + (x - MU) * math.sqrt((S**2 + sigma_to**2) / (S**2 + sigma_from**2))


def counting(calls: list):
    def denoise(x, sigma):
        calls.append(float(sigma.reshape(-1)[0]))
        return gaussian_denoiser(x, sigma)

    return denoise


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 8, 9, 10])
def test_dpm_fast_spends_the_step_budget_and_stops_at_the_last_nonzero_sigma(steps):
    sigmas = calculate_sigmas(toy_model().schedule, "karras", steps).double()
    x = torch.linspace(-3, 3, 7, dtype=torch.float64) * float(sigmas[0]) + MU
    calls, seen = [], []
    out = get_sampler("dpm_fast")(
        counting(calls), x.clone(), sigmas, extra=SamplerExtras(callback=lambda i, xx, d, n: seen.append((i, n)))
    )
    if steps == 1:  # sigmas[0] is the last nonzero sigma: nothing to solve
        assert torch.equal(out, x) and calls == [] and seen == []
        return
    assert len(calls) == steps
    assert calls[0] == pytest.approx(float(sigmas[0])) and min(calls) > float(sigmas[-2]) * 0.999
    assert seen[-1] == (steps - 1, steps) and [i for i, _ in seen] == sorted({i for i, _ in seen})
    assert bool(torch.isfinite(out).all())


def test_dpm_fast_converges():
    def error(steps: int) -> float:
        sigmas = calculate_sigmas(toy_model().schedule, "karras", steps).double()
        x = torch.linspace(-3, 3, 7, dtype=torch.float64) * float(sigmas[0]) + MU
        out = get_sampler("dpm_fast")(gaussian_denoiser, x.clone(), sigmas)
        return float((out - exact(x, float(sigmas[0]), float(sigmas[-2]))).abs().max())

    assert error(20) < 5e-3 and error(10) > 4 * error(20)


def test_dpm_adaptive_is_accurate_and_reports_progress():
    sigmas = calculate_sigmas(toy_model().schedule, "normal", 10).double()
    x = torch.linspace(-3, 3, 7, dtype=torch.float64) * float(sigmas[0]) + MU
    calls, seen = [], []
    out = get_sampler("dpm_adaptive")(
        counting(calls), x.clone(), sigmas, extra=SamplerExtras(callback=lambda i, xx, d, n: seen.append((i, n)))
    )
    assert torch.allclose(out, exact(x, float(sigmas[0]), float(sigmas[-2])), atol=0.05)  # |x| up to 44
    progress = [i for i, _ in seen]
    assert progress == sorted(progress) and progress[-1] == 9 and all(n == 10 for _, n in seen)
    rejected = 3 * len(seen) - len(calls)  # three calls an attempt, but a retry reuses its first estimate
    assert 0 <= rejected < len(seen)
    with pytest.raises(ValueError):
        get_sampler("dpm_adaptive")(gaussian_denoiser, x, sigmas, extra=None, order=4)


@pytest.mark.parametrize("name", ["dpm_fast", "dpm_adaptive"])
def test_dpm_solver_edge_schedules(name):
    x = torch.full((3,), 2.0)
    fn = get_sampler(name)
    assert torch.equal(fn(gaussian_denoiser, x, torch.tensor([5.0])), x)
    assert torch.equal(fn(gaussian_denoiser, x, torch.tensor([5.0, 0.0])), x)  # as ComfyUI: empty range
    two = fn(gaussian_denoiser, x.double(), torch.tensor([5.0, 1.0, 0.0], dtype=torch.float64))
    assert torch.allclose(two, exact(x.double(), 5.0, 1.0), atol=0.05)


@pytest.mark.parametrize("order", [2, 3])
def test_ipndm_v_on_equal_steps_is_ipndm(order):
    """(Not at order 4: ComfyUI's variable-step weights give 57, -65, 43, -11 / 24 there.)"""
    sigmas = torch.cat([torch.linspace(14.6, 0.5, 12, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    x = torch.randn(32, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 14.6
    a = get_sampler("ipndm_v")(gaussian_denoiser, x.clone(), sigmas, order=order)
    b = get_sampler("ipndm")(gaussian_denoiser, x.clone(), sigmas, order=order)
    assert torch.allclose(a, b, atol=1e-9)


@pytest.mark.parametrize(
    "name,order",
    [
        ("euler_cfg_pp", 0.9),
        ("dpmpp_2m_cfg_pp", 1.8),
        ("res_multistep", 1.8),
        ("res_multistep_cfg_pp", 1.8),
        ("res_multistep_ancestral", 1.8),
        ("ipndm_v", 1.6),
        ("heunpp2", 0.9),
        ("gradient_estimation", 0.7),
    ],
)
def test_convergence_order_of_added_samplers(name, order):
    """Doubling the steps shrinks the ODE error by at least 2**order (eta=0 for ancestral ones)."""
    assert math.log2(ode_error(name, 20) / ode_error(name, 40)) > order

"""Noise schedules and schedulers against formulas written out independently in numpy."""

import math

import numpy as np
import pytest
import torch

from nodeflow.sampling import (
    SCHEDULER_NAMES,
    DiscreteSchedule,
    beta_cdf,
    beta_ppf,
    calculate_sigmas,
    sd_turbo_sigmas,
    split_for_denoise,
)

SCHED = DiscreteSchedule.sd()


def np_sigmas() -> np.ndarray:
    betas = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=np.float64) ** 2
    ac = np.cumprod(1.0 - betas)
    return np.sqrt((1.0 - ac) / ac)


def np_sigma_at(t: float) -> float:
    """Log-linear interpolation of the training sigmas at fractional timestep t."""
    ls = np.log(np_sigmas().astype(np.float32).astype(np.float64))
    return float(np.exp(np.interp(t, np.arange(1000), ls)))


def test_sd_sigmas():
    ref = np_sigmas()
    assert SCHED.sigmas.dtype == torch.float32 and SCHED.sigmas.shape == (1000,)
    np.testing.assert_allclose(SCHED.sigmas.numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(SCHED.log_sigmas.numpy(), np.log(ref), rtol=1e-5, atol=1e-6)
    assert SCHED.sigma_min == pytest.approx(0.029167, abs=1e-5)
    assert SCHED.sigma_max == pytest.approx(14.6146, abs=1e-4)


def test_timestep_and_sigma_interpolate_log_sigma():
    idx = torch.tensor([0, 1, 250, 998, 999])
    assert torch.allclose(SCHED.timestep(SCHED.sigmas[idx]), idx.float(), atol=1e-3)
    # ComfyUI's float32 exp of the float32 log: the stored sigma up to its last bit
    assert torch.equal(SCHED.sigma(idx.double()), SCHED.log_sigmas[idx].exp())
    assert torch.allclose(SCHED.sigma(idx.double()), SCHED.sigmas[idx], rtol=2e-7, atol=0)
    # halfway in log sigma between two training steps is the half timestep
    mid = math.sqrt(float(SCHED.sigmas[500]) * float(SCHED.sigmas[501]))
    assert float(SCHED.timestep(torch.tensor([mid]))) == pytest.approx(500.5, abs=1e-3)
    assert float(SCHED.sigma(torch.tensor(123.25))) == pytest.approx(np_sigma_at(123.25), rel=1e-6)
    # out of range sigmas clamp to the ends
    assert SCHED.timestep(torch.tensor([1000.0, 1e-4])).tolist() == [999.0, 0.0]


def test_percent_to_sigma():
    assert SCHED.percent_to_sigma(0.0) == 999999999.9
    assert SCHED.percent_to_sigma(1.0) == 0.0
    assert SCHED.percent_to_sigma(0.5) == pytest.approx(np_sigma_at(499.5), rel=1e-6)


def expected_len(name: str, steps: int) -> int:
    if name == "ddim_uniform":
        return len(range(1, 1000, 1000 // steps)) + 1
    return steps + 1


@pytest.mark.parametrize("steps", [1, 7, 30])
@pytest.mark.parametrize("name", SCHEDULER_NAMES)
def test_scheduler_shape(name, steps):
    sig = calculate_sigmas(SCHED, name, steps)
    assert sig.dtype == torch.float32 and sig.ndim == 1
    if name != "beta":  # beta may drop repeated timesteps (checked below)
        assert len(sig) == expected_len(name, steps)
    assert float(sig[-1]) == 0.0
    assert bool((sig[1:] < sig[:-1]).all()), "sigmas must strictly decrease"
    if name == "ddim_uniform":
        top = max(range(1, 1000, 1000 // steps))
        assert float(sig[0]) == float(SCHED.sigmas[top])
    else:
        assert float(sig[0]) == pytest.approx(SCHED.sigma_max, rel=1e-6)


def test_scheduler_names_and_unknown():
    assert SCHEDULER_NAMES == [
        "normal",
        "karras",
        "exponential",
        "sgm_uniform",
        "simple",
        "ddim_uniform",
        "beta",
        "linear_quadratic",
        "kl_optimal",
    ]
    with pytest.raises(ValueError) as err:
        calculate_sigmas(SCHED, "nope", 10)
    for name in SCHEDULER_NAMES:
        assert name in str(err.value)


def test_kl_optimal_is_uniform_in_arctan_sigma():
    sigmas = calculate_sigmas(SCHED, "kl_optimal", 9).double()
    angles = np.arctan(sigmas[:-1].numpy())
    assert sigmas[-1] == 0 and np.allclose(np.diff(angles), np.diff(angles)[0], atol=1e-6)
    assert np.isclose(sigmas[0].item(), SCHED.sigma_max, rtol=1e-6) and np.isclose(
        sigmas[-2].item(), SCHED.sigma_min, rtol=1e-5
    )


def test_karras_closed_form():
    n, rho = 12, 7.0
    hi, lo = SCHED.sigma_max ** (1 / rho), SCHED.sigma_min ** (1 / rho)
    ref = [(hi + i / (n - 1) * (lo - hi)) ** rho for i in range(n)] + [0.0]
    np.testing.assert_allclose(calculate_sigmas(SCHED, "karras", n).numpy(), ref, rtol=1e-6)


def test_exponential_closed_form():
    ref = np.exp(np.linspace(np.log(SCHED.sigma_max), np.log(SCHED.sigma_min), 9))
    np.testing.assert_allclose(calculate_sigmas(SCHED, "exponential", 9).numpy()[:-1], ref, rtol=1e-6)


def test_normal_and_sgm_uniform():
    sig = calculate_sigmas(SCHED, "normal", 10).numpy()
    assert sig[0] == pytest.approx(SCHED.sigma_max, rel=1e-6)
    assert sig[-2] == pytest.approx(SCHED.sigma_min, rel=1e-6)
    ref = [np_sigma_at(t) for t in np.linspace(999, 0, 10)]
    np.testing.assert_allclose(sig[:-1], ref, rtol=1e-5)
    sgm = calculate_sigmas(SCHED, "sgm_uniform", 10).numpy()
    ref = [np_sigma_at(t) for t in np.linspace(999, 0, 11)[:-1]]
    np.testing.assert_allclose(sgm[:-1], ref, rtol=1e-5)


def test_simple():
    ref = np_sigmas()
    sig = calculate_sigmas(SCHED, "simple", 8).numpy()
    np.testing.assert_allclose(sig[:-1], [ref[-(1 + int(i * 125))] for i in range(8)], rtol=1e-6)


@pytest.mark.parametrize("steps,count", [(10, 10), (30, 31), (3, 3)])
def test_ddim_uniform_indices(steps, count):
    ref = np_sigmas()
    c = 1000 // steps
    idx = list(range(1, 1000, c))
    assert len(idx) == count
    sig = calculate_sigmas(SCHED, "ddim_uniform", steps).numpy()
    np.testing.assert_allclose(sig[:-1], ref[idx][::-1], rtol=1e-6)


# --- Beta(0.6, 0.6) quantiles --------------------------------------------------------------


def numeric_beta_cdf(x: float, a: float, b: float) -> float:
    """CDF by Gauss-Legendre quadrature after substitutions removing the end singularities."""
    nodes, weights = np.polynomial.legendre.leggauss(64)

    def quad(f, lo, hi):
        u = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
        return 0.5 * (hi - lo) * float(np.sum(weights * f(u)))

    m = min(x, 0.5)
    # t = u^(1/a) on [0, m]:  t^(a-1) dt = du / a
    total = quad(lambda u: (1 - u ** (1 / a)) ** (b - 1), 0.0, m**a) / a
    if x > 0.5:  # y = 1 - t = v^(1/b) on [0.5, x]
        total += quad(lambda v: (1 - v ** (1 / b)) ** (a - 1), (1 - x) ** b, 0.5**b) / b
    return total * math.gamma(a + b) / (math.gamma(a) * math.gamma(b))


@pytest.mark.parametrize("q", [0.02, 0.2, 0.5, 0.77, 0.999])
def test_beta_ppf_against_numeric_integration(q):
    x = beta_ppf(q, 0.6, 0.6)
    assert numeric_beta_cdf(x, 0.6, 0.6) == pytest.approx(q, abs=1e-6)
    assert beta_cdf(x, 0.6, 0.6) == pytest.approx(q, abs=1e-9)


def test_beta_ppf_closed_forms():
    for q in (0.1, 0.5, 0.9):
        assert beta_ppf(q, 1.0, 1.0) == pytest.approx(q, abs=1e-9)
        assert beta_ppf(q, 2.0, 1.0) == pytest.approx(math.sqrt(q), abs=1e-9)
        assert beta_ppf(q, 1.0, 3.0) == pytest.approx(1 - (1 - q) ** (1 / 3), abs=1e-9)
    assert beta_ppf(0.5, 0.6, 0.6) == pytest.approx(0.5, abs=1e-9)
    assert (beta_ppf(0.0, 0.6, 0.6), beta_ppf(1.0, 0.6, 0.6)) == (0.0, 1.0)


def test_beta_scheduler_indices():
    steps = 12
    idx = []
    for q in 1 - np.linspace(0, 1, steps, endpoint=False):
        lo, hi = 0.0, 1.0  # bisection on the numeric CDF, independent of the module
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if numeric_beta_cdf(mid, 0.6, 0.6) < q else (lo, mid)
        t = int(np.rint(0.5 * (lo + hi) * 999))
        if not idx or idx[-1] != t:
            idx.append(t)
    sig = calculate_sigmas(SCHED, "beta", steps).numpy()
    np.testing.assert_allclose(sig[:-1], np_sigmas()[idx], rtol=1e-6)
    many = calculate_sigmas(SCHED, "beta", 600)  # dense ends give repeated timesteps
    assert len(many) < 601 and bool((many[1:] < many[:-1]).all())


# --- denoise splitting and SD-Turbo ---------------------------------------------------------


def test_split_for_denoise():
    for name in SCHEDULER_NAMES:
        part = split_for_denoise(SCHED, name, 10, 0.5)
        assert torch.equal(part, calculate_sigmas(SCHED, name, 20)[-11:])
    assert torch.equal(split_for_denoise(SCHED, "karras", 10, 1.0), calculate_sigmas(SCHED, "karras", 10))
    assert split_for_denoise(SCHED, "karras", 10, 0.0).numel() == 0
    assert len(split_for_denoise(SCHED, "normal", 4, 0.3)) == 5


def test_sd_turbo_sigmas():
    ref = np_sigmas()
    full = sd_turbo_sigmas(SCHED, 4, 1.0).numpy()
    np.testing.assert_allclose(full, [*list(ref[[999, 899, 799, 699]]), 0.0], rtol=1e-6)
    half = sd_turbo_sigmas(SCHED, 2, 0.5).numpy()
    np.testing.assert_allclose(half, [*list(ref[[499, 399]]), 0.0], rtol=1e-6)
    assert len(sd_turbo_sigmas(SCHED, 20, 1.0)) == 11

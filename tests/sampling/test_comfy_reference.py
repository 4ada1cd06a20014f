"""NodeFlow's KSampler against ComfyUI's, case by case: every sampler, every scheduler, img2img and
the sigma tables of shared/reference/ksampler_toy_reference.* (see comfy_reference.py)."""

import pytest
import torch

from nodeflow.sampling.schedules import calculate_sigmas
from tests.sampling.comfy_reference import CASES, REFERENCE, expected, run_case, toy_model

# ComfyUI's kl_optimal divides by steps - 1, so one step gives NaN; NodeFlow starts at sigma_max
DEVIATIONS = {"kl_optimal/1"}


@pytest.mark.parametrize("key", list(CASES))
def test_ksampler_matches_comfyui(key):
    got, want = run_case(key), expected(key)
    assert got.shape == want.shape
    relative = float((got - want).abs().max() / want.abs().max())
    assert relative < 1e-5, f"{key}: max error {relative:.2e} of the largest value"


@pytest.mark.parametrize("key", list(REFERENCE["sigmas"]))
def test_sigma_table_matches_comfyui(key):
    scheduler, steps = key.split("/")
    got = calculate_sigmas(toy_model().schedule, scheduler, int(steps))
    want = torch.tensor(REFERENCE["sigmas"][key])
    if key in DEVIATIONS:
        assert torch.isnan(want[0]) and got[0] == toy_model().schedule.sigma_max
        want[0] = got[0]
    assert got.shape == want.shape, f"{key}: {got.tolist()} vs {want.tolist()}"
    assert torch.allclose(got, want, rtol=1e-6, atol=1e-7), f"{key}: {got.tolist()} vs {want.tolist()}"


def test_model_sampling_constants():
    schedule = toy_model().schedule
    assert schedule.sigma_min == pytest.approx(REFERENCE["model_sampling"]["sigma_min"], rel=1e-7)
    assert schedule.sigma_max == pytest.approx(REFERENCE["model_sampling"]["sigma_max"], rel=1e-7)
    assert toy_model().latent_format.scale_factor == REFERENCE["model_sampling"]["latent_scale_factor"]

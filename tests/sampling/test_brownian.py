"""The Brownian-tree noise of the SDE samplers: normal increments along one path, seeded, the
sign and scaling convention of the reference, and lazy construction."""

import math

import torch

from nodeflow.sampling import SamplerExtras
from nodeflow.sampling.brownian import BrownianNoise, with_brownian_noise

SIGMAS = [14.6, 6.7, 3.5, 2.06, 1.28, 0.79, 0.44, 0.029, 0.0]


def test_standard_normal_and_seeded():
    noise = BrownianNoise((64, 64), SIGMAS, seed=42)
    z = noise(3.5, 2.06)
    assert z.shape == (64, 64) and z.dtype == torch.float32
    assert abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1.0) < 0.05
    assert torch.equal(BrownianNoise((64, 64), SIGMAS, seed=42)(3.5, 2.06), z)
    assert not torch.allclose(BrownianNoise((64, 64), SIGMAS, seed=43)(3.5, 2.06), z)


def test_increments_add_up_along_one_path():
    noise = BrownianNoise((4096,), SIGMAS, seed=7)
    whole = noise(6.7, 1.28) * math.sqrt(6.7 - 1.28)
    parts = noise(6.7, 3.5) * math.sqrt(6.7 - 3.5) + noise(3.5, 1.28) * math.sqrt(3.5 - 1.28)
    assert torch.allclose(whole, parts, atol=1e-4)
    # disjoint steps are independent
    a, b = noise(6.7, 3.5), noise(1.28, 0.79)
    assert abs(float((a * b).mean())) < 0.06


def test_reference_convention():
    """-tree(sigma_next, sigma) / sqrt(sigma - sigma_next) from BrownianTree(t0=min, t1=max)."""
    import torchsde

    tree = torchsde.BrownianTree(torch.tensor(0.029), torch.zeros(16), torch.tensor(14.6), entropy=3)
    want = -tree(torch.tensor(0.79), torch.tensor(1.28)) / (torch.tensor(1.28) - torch.tensor(0.79)).sqrt()
    assert torch.allclose(BrownianNoise((16,), SIGMAS, seed=3)(1.28, 0.79), want, rtol=1e-6, atol=0)
    # asked the other way round, the increment keeps its sign relative to time
    assert torch.allclose(BrownianNoise((16,), SIGMAS, seed=3)(0.79, 1.28), -want, rtol=1e-6, atol=0)


def test_with_brownian_noise_keeps_a_given_source_and_builds_lazily():
    x = torch.zeros(2, 3)
    given = SamplerExtras(noise=lambda s, sn: torch.ones(2, 3), seed=1)
    assert with_brownian_noise(given, x, torch.tensor(SIGMAS)) is given
    extra = with_brownian_noise(SamplerExtras(seed=5), x, torch.tensor(SIGMAS))
    assert isinstance(extra.noise, BrownianNoise) and extra.seed == 5
    assert extra.noise._tree is None  # nothing built until noise is asked for
    assert with_brownian_noise(None, x, torch.tensor([0.0])).noise is None

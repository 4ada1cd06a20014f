"""An exactly solvable sampling problem: x0 ~ N(MU, S^2), its exact denoiser and the error of a
sampler against the exact probability-flow ODE solution (for convergence orders)."""

import math

import torch

from nodeflow.sampling import SamplerExtras, get_sampler

MU, S = 0.7, 0.3


def gaussian_denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Exact E[x0 | x] for x0 ~ N(MU, S^2) and x = x0 + sigma * noise."""
    sigma = sigma.view(-1, *[1] * (x.ndim - 1)).to(x.dtype)
    return MU + S**2 / (S**2 + sigma**2) * (x - MU)


def ode_error(name: str, steps: int) -> float:
    """Max error at the last nonzero sigma against the exact probability-flow ODE solution."""
    sig = torch.exp(torch.linspace(math.log(14.6), math.log(0.03), steps, dtype=torch.float64))
    sig = torch.cat([sig, sig.new_zeros(1)])
    x = torch.linspace(-3, 3, 7, dtype=torch.float64) * sig[0] + MU
    got = {}

    def keep(i, xx, d, n):
        if i == n - 2:
            got["x"] = xx

    get_sampler(name)(gaussian_denoiser, x.clone(), sig, extra=SamplerExtras(eta=0.0, callback=keep))
    exact = MU + (x - MU) * math.sqrt((S**2 + float(sig[-2]) ** 2) / (S**2 + float(sig[0]) ** 2))
    return float((got["x"] - exact).abs().max())

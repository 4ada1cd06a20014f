"""comfy.ldm.modules.diffusionmodules.util for custom-node packs: the sinusoidal timestep
embedding and small helpers of the SD UNet."""

from __future__ import annotations

import math
from typing import Any

import torch

from nodeflow.comfy_compat import missing


def timestep_embedding(
    timesteps: torch.Tensor, dim: int, max_period: float = 10000, repeat_only: bool = False
) -> torch.Tensor:
    """Sinusoidal embedding [N, dim] of timesteps [N]: cosines then sines of t * f_i with the
    frequencies f_i = max_period^(-i / (dim // 2)); an odd ``dim`` gets a zero last column.
    ``repeat_only`` returns the timesteps repeated ``dim`` times instead."""
    if repeat_only:
        return timesteps[:, None].expand(-1, dim).clone()
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    args = timesteps[:, None].float() * freqs[None]
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


def zero_module(module: torch.nn.Module) -> torch.nn.Module:
    """Zero every parameter of ``module`` and return it."""
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    return module


def scale_module(module: torch.nn.Module, scale: float) -> torch.nn.Module:
    """Multiply every parameter of ``module`` by ``scale`` and return it."""
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(scale)
    return module


def mean_flat(tensor: torch.Tensor) -> torch.Tensor:
    """Mean over every dimension but the batch."""
    return tensor.mean(dim=list(range(1, tensor.ndim)))


def conv_nd(dims: int, *args: Any, **kwargs: Any) -> torch.nn.Module:
    """A torch Conv1d/2d/3d for ``dims`` 1/2/3."""
    layers = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
    if dims not in layers:
        raise ValueError(f"conv_nd: unsupported dimensions {dims} (1, 2 or 3)")
    return layers[dims](*args, **kwargs)


def avg_pool_nd(dims: int, *args: Any, **kwargs: Any) -> torch.nn.Module:
    """A torch AvgPool1d/2d/3d for ``dims`` 1/2/3."""
    layers = {1: torch.nn.AvgPool1d, 2: torch.nn.AvgPool2d, 3: torch.nn.AvgPool3d}
    if dims not in layers:
        raise ValueError(f"avg_pool_nd: unsupported dimensions {dims} (1, 2 or 3)")
    return layers[dims](*args, **kwargs)


def linear(*args: Any, **kwargs: Any) -> torch.nn.Linear:
    return torch.nn.Linear(*args, **kwargs)


def make_beta_schedule(
    schedule: str, n_timestep: int, linear_start: float = 1e-4, linear_end: float = 2e-2, cosine_s: float = 8e-3
) -> torch.Tensor:
    """Betas of the "linear" (SD's scaled-linear: linear in sqrt(beta)), "cosine", "sqrt_linear" or
    "sqrt" schedule, as float64."""
    if schedule == "linear":
        return torch.linspace(linear_start**0.5, linear_end**0.5, n_timestep, dtype=torch.float64) ** 2
    if schedule == "cosine":
        steps = torch.arange(n_timestep + 1, dtype=torch.float64) / n_timestep + cosine_s
        alphas = torch.cos(steps / (1 + cosine_s) * math.pi / 2) ** 2
        alphas = alphas / alphas[0]
        return (1 - alphas[1:] / alphas[:-1]).clamp(0, 0.999)
    if schedule == "sqrt_linear":
        return torch.linspace(linear_start, linear_end, n_timestep, dtype=torch.float64)
    if schedule == "sqrt":
        return torch.linspace(linear_start, linear_end, n_timestep, dtype=torch.float64) ** 0.5
    raise ValueError(f"make_beta_schedule: unknown schedule {schedule!r} (linear, cosine, sqrt_linear, sqrt)")


__getattr__ = missing("comfy.ldm.modules.diffusionmodules.util")

"""Timestep conditioning as diffusers computes it: the sinusoidal embedding (float32, cos half
first for SD) and the two-layer MLP that maps it to the block embedding (``linear_1``/``linear_2``)."""

from __future__ import annotations

import math

import torch
from torch import nn

MAX_PERIOD = 10000


def sinusoidal(timesteps: torch.Tensor, channels: int, flip_sin_to_cos: bool, shift: float) -> torch.Tensor:
    """[N] timesteps -> [N, channels] float32 embedding (odd ``channels``: a zero column appended)."""
    if timesteps.dim() != 1:
        raise ValueError(f"timesteps must be one-dimensional, got shape {tuple(timesteps.shape)}")
    half = channels // 2
    exponent = -math.log(MAX_PERIOD) * torch.arange(start=0, end=half, dtype=torch.float32, device=timesteps.device)
    freqs = torch.exp(exponent / (half - shift))
    angles = timesteps[:, None].float() * freqs[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if channels % 2 == 1:
        emb = nn.functional.pad(emb, (0, 1, 0, 0))
    return emb


class Timesteps(nn.Module):
    """No weights: numbers -> their sinusoidal embedding."""

    def __init__(self, num_channels: int, flip_sin_to_cos: bool, downscale_freq_shift: float):
        super().__init__()
        self.num_channels = num_channels
        self.flip_sin_to_cos = flip_sin_to_cos
        self.downscale_freq_shift = downscale_freq_shift

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        return sinusoidal(timesteps, self.num_channels, self.flip_sin_to_cos, self.downscale_freq_shift)


class TimestepEmbedding(nn.Module):
    """linear -> SiLU -> linear."""

    def __init__(self, in_channels: int, time_embed_dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, sample: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(sample)))

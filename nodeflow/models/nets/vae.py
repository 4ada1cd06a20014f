"""NodeFlow's own KL autoencoder (the SD / SDXL / SD3 / Flux VAE): the module tree, parameter names,
config and numbers of ``diffusers.AutoencoderKL`` for the configs NodeFlow builds (``detect._vae_config``),
without importing diffusers. Tiled encode/decode live in ``vae_tiles.py``."""

from __future__ import annotations

from functools import cached_property
from typing import Any, NamedTuple

import torch
from torch import nn

from .attention import Attention
from .blocks import Downsample2D, ResnetBlock2D, Upsample2D
from .config import NetConfig
from .vae_tiles import tiled_decode, tiled_encode

EPS = 1e-6  # every GroupNorm of the VAE

# diffusers.AutoencoderKL's constructor arguments and their defaults (what its config holds)
DEFAULTS: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",),
    "up_block_types": ("UpDecoderBlock2D",),
    "block_out_channels": (64,),
    "layers_per_block": 1,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 32,
    "scaling_factor": 0.18215,
    "shift_factor": None,
    "latents_mean": None,
    "latents_std": None,
    "force_upcast": True,
    "use_quant_conv": True,
    "use_post_quant_conv": True,
    "mid_block_add_attention": True,
}


def supports(config: dict[str, Any]) -> str | None:
    """None when ``config`` (AutoencoderKL keyword arguments) is one this network builds, else why not."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        return f"config key {unknown[0]!r} is not an AutoencoderKL argument this network knows"
    cfg = {**DEFAULTS, **config}
    levels = len(cfg["block_out_channels"])
    for key, kind in (("down_block_types", "DownEncoderBlock2D"), ("up_block_types", "UpDecoderBlock2D")):
        types = tuple(cfg[key])
        if any(t != kind for t in types):
            return f"{key}={types!r}: only {kind} blocks are supported"
        if len(types) != levels:
            return f"{key} has {len(types)} entries for {levels} block_out_channels"
    if cfg["act_fn"] != "silu":
        return f"act_fn={cfg['act_fn']!r}: only 'silu' is supported"
    if not isinstance(cfg["sample_size"], int):
        return f"sample_size={cfg['sample_size']!r}: only a single int is supported"
    return None


class DiagonalGaussian:
    """The encoder's moments read as a diagonal Gaussian (diffusers' ``DiagonalGaussianDistribution``):
    mean and log-variance (clamped to [-30, 20]) halves of the channels."""

    def __init__(self, parameters: torch.Tensor, deterministic: bool = False):
        self.parameters = parameters
        self.deterministic = deterministic
        self.mean, logvar = torch.chunk(parameters, 2, dim=1)
        self.logvar = torch.clamp(logvar, -30.0, 20.0)

    @cached_property
    def std(self) -> torch.Tensor:
        return torch.zeros_like(self.mean) if self.deterministic else torch.exp(0.5 * self.logvar)

    @cached_property
    def var(self) -> torch.Tensor:
        return torch.zeros_like(self.mean) if self.deterministic else torch.exp(self.logvar)

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        device, dtype = self.parameters.device, self.parameters.dtype
        draw_on = device
        if generator is not None and generator.device.type != device.type:
            if generator.device.type != "cpu":
                raise ValueError(f"a {generator.device} generator cannot draw noise for a {device} tensor")
            draw_on = torch.device("cpu")
        noise = torch.randn(self.mean.shape, generator=generator, device=draw_on, dtype=dtype).to(device)
        return self.mean + self.std * noise


class AutoencoderKLOutput(NamedTuple):
    latent_dist: DiagonalGaussian


class DecoderOutput(NamedTuple):
    sample: torch.Tensor


class VaeAttention(Attention):
    """The mid block's single-head self-attention over all pixels (diffusers' ``Attention`` as the VAE
    configures it): GroupNorm, biased q/k/v projections, the UNet attention's SDPA and output
    projection, plus the input. Built here rather than by ``Attention.__init__``, which makes
    bias-free projections, so that the modules register in diffusers' order (group_norm first)."""

    def __init__(self, channels: int, groups: int):
        nn.Module.__init__(self)
        self.heads = 1
        self.inner_dim = self.cross_attention_dim = channels
        self.is_cross_attention = False
        self.group_norm = nn.GroupNorm(num_channels=channels, num_groups=groups, eps=EPS, affine=True)
        self.to_q = nn.Linear(channels, channels, bias=True)
        self.to_k = nn.Linear(channels, channels, bias=True)
        self.to_v = nn.Linear(channels, channels, bias=True)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels, bias=True), nn.Dropout(0.0)])

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        batch, channels, height, width = x.shape
        tokens = x.view(batch, channels, height * width).transpose(1, 2)
        tokens = self.group_norm(tokens.transpose(1, 2)).transpose(1, 2)
        mixed = super().forward(tokens)
        return mixed.transpose(-1, -2).reshape(batch, channels, height, width) + x


class MidBlock(nn.Module):
    """Residual block, self-attention (unless turned off), residual block (diffusers' ``UNetMidBlock2D``)."""

    def __init__(self, channels: int, groups: int, attention: bool):
        super().__init__()
        self.attentions = nn.ModuleList([VaeAttention(channels, groups) if attention else None])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, None, groups, EPS) for _ in range(2)])

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        x = self.resnets[0](x)
        for attention, resnet in zip(self.attentions, self.resnets[1:], strict=True):
            if attention is not None:
                x = attention(x)
            x = resnet(x)
        return x


class VaeLevel(nn.Module):
    """Residual blocks, then (but on the last level) a 2x resample: ``downsamplers`` with the asymmetric
    pad in the encoder (``DownEncoderBlock2D``), ``upsamplers`` (nearest, then a convolution) in the
    decoder (``UpDecoderBlock2D``)."""

    def __init__(self, in_channels: int, out_channels: int, layers: int, groups: int, resample: str | None):
        super().__init__()
        self.resnets = nn.ModuleList(
            ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, None, groups, EPS)
            for i in range(layers)
        )
        down, up = resample == "down", resample == "up"
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, out_channels, padding=0)]) if down else None
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if up else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        for layer in (*self.resnets, *(self.downsamplers or ()), *(self.upsamplers or ())):
            x = layer(x)
        return x


def _levels(widths: tuple[int, ...], layers: int, groups: int, resample: str) -> list[VaeLevel]:
    """One level per width, each fed by the previous one's width; all but the last ``resample``."""
    last = len(widths) - 1
    return [
        VaeLevel(widths[max(i - 1, 0)], width, layers, groups, resample if i < last else None)
        for i, width in enumerate(widths)
    ]


class Encoder(nn.Module):
    """Pixels -> mean and log-variance (2 x latent channels), downsampled 2x per level but the last."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        widths, groups = tuple(cfg.block_out_channels), cfg.norm_num_groups
        self.layers_per_block = cfg.layers_per_block
        self.conv_in = nn.Conv2d(cfg.in_channels, widths[0], kernel_size=3, stride=1, padding=1)
        self.down_blocks = nn.ModuleList(_levels(widths, cfg.layers_per_block, groups, "down"))
        self.mid_block = MidBlock(widths[-1], groups, cfg.mid_block_add_attention)
        self.conv_norm_out = nn.GroupNorm(num_channels=widths[-1], num_groups=groups, eps=EPS)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(widths[-1], 2 * cfg.latent_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(x)
        for level in self.down_blocks:
            x = level(x)
        x = self.mid_block(x)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


class Decoder(nn.Module):
    """Latents -> pixels, upsampled 2x per level but the last; one more residual block per level
    than the encoder."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        widths, groups = tuple(reversed(cfg.block_out_channels)), cfg.norm_num_groups
        self.layers_per_block = cfg.layers_per_block
        self.conv_in = nn.Conv2d(cfg.latent_channels, widths[0], kernel_size=3, stride=1, padding=1)
        self.up_blocks = nn.ModuleList()  # registered before the mid block, as diffusers orders the state dict
        self.mid_block = MidBlock(widths[0], groups, cfg.mid_block_add_attention)
        self.up_blocks.extend(_levels(widths, cfg.layers_per_block + 1, groups, "up"))
        self.conv_norm_out = nn.GroupNorm(num_channels=widths[-1], num_groups=groups, eps=EPS)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(widths[-1], cfg.out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor, latent_embeds: torch.Tensor | None = None) -> torch.Tensor:
        x = self.mid_block(self.conv_in(z))
        for level in self.up_blocks:
            x = level(x)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


class KLAutoencoder(nn.Module):
    """``diffusers.AutoencoderKL`` for NodeFlow: ``encode(x).latent_dist``, ``decode(z)``, the tiled
    paths (``_tiled_encode``, ``tiled_decode``; ``use_tiling`` / ``use_slicing`` as diffusers reads
    them) and a dict ``config`` with attribute access. Raises ValueError for configs ``supports``
    refuses."""

    def __init__(self, **config: Any):
        super().__init__()
        reason = supports(config)
        if reason is not None:
            raise ValueError(f"NodeFlow's VAE network: {reason}")
        self.config = cfg = NetConfig({**DEFAULTS, **config})
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        lat = cfg.latent_channels
        self.quant_conv = nn.Conv2d(2 * lat, 2 * lat, 1) if cfg.use_quant_conv else None
        self.post_quant_conv = nn.Conv2d(lat, lat, 1) if cfg.use_post_quant_conv else None
        self.use_slicing = False
        self.use_tiling = False
        self.tile_sample_min_size = cfg.sample_size
        self.tile_latent_min_size = int(cfg.sample_size / 2 ** (len(cfg.block_out_channels) - 1))
        self.tile_overlap_factor = 0.25

    # whole ---------------------------------------------------------------------------------------
    def _moments(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder output (after quant_conv) for a batch, tiled when ``use_tiling`` and it is larger than a tile."""
        if self.use_tiling and max(x.shape[-2:]) > self.tile_sample_min_size:
            return self._tiled_encode(x)
        moments = self.encoder(x)
        return moments if self.quant_conv is None else self.quant_conv(moments)

    def _pixels(self, z: torch.Tensor) -> torch.Tensor:
        if self.use_tiling and max(z.shape[-2:]) > self.tile_latent_min_size:
            return self.tiled_decode(z, return_dict=False)[0]
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        return self.decoder(z)

    def encode(self, x: torch.Tensor, return_dict: bool = True):
        if self.use_slicing and x.shape[0] > 1:
            moments = torch.cat([self._moments(one) for one in x.split(1)])
        else:
            moments = self._moments(x)
        dist = DiagonalGaussian(moments)
        return AutoencoderKLOutput(dist) if return_dict else (dist,)

    def decode(self, z: torch.Tensor, return_dict: bool = True, generator=None):
        if self.use_slicing and z.shape[0] > 1:
            pixels = torch.cat([self._pixels(one) for one in z.split(1)])
        else:
            pixels = self._pixels(z)
        return DecoderOutput(pixels) if return_dict else (pixels,)

    def forward(self, sample: torch.Tensor, sample_posterior: bool = False, return_dict: bool = True, generator=None):
        dist = self.encode(sample).latent_dist
        z = dist.sample(generator=generator) if sample_posterior else dist.mode()
        pixels = self.decode(z).sample
        return DecoderOutput(pixels) if return_dict else (pixels,)

    # tiled ---------------------------------------------------------------------------------------
    def _tiled_encode(self, x: torch.Tensor) -> torch.Tensor:
        """Moments of ``x`` encoded in overlapping tiles of ``tile_sample_min_size`` pixels, blended."""
        return tiled_encode(self, x)

    def tiled_decode(self, z: torch.Tensor, return_dict: bool = True):
        pixels = tiled_decode(self, z)
        return DecoderOutput(pixels) if return_dict else (pixels,)

    def enable_tiling(self) -> None:
        self.use_tiling = True

    def disable_tiling(self) -> None:
        self.use_tiling = False

    def enable_slicing(self) -> None:
        self.use_slicing = True

    def disable_slicing(self) -> None:
        self.use_slicing = False

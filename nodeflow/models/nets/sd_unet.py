"""NodeFlow's own Stable Diffusion UNet: a drop-in for ``diffusers.UNet2DConditionModel`` as the SD1 /
SD2 / SDXL families configure it (``detect.unet_config_from_shapes``), with the same module tree,
state-dict names and numbers, and without importing diffusers (seconds of a cold start).

``SDUNet.supports(config)`` says whether a config is one it builds; the family falls back to
diffusers' class for anything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from .config import NetConfig
from .timestep import TimestepEmbedding, Timesteps
from .unet_blocks import (
    CrossAttnDownBlock2D,
    CrossAttnUpBlock2D,
    DownBlock2D,
    Level,
    UNetMidBlock2DCrossAttn,
    UpBlock2D,
)
from .unet_config import DEFAULTS, DOWN_TYPES, UP_TYPES, per_level, unsupported


class UNetOutput(NamedTuple):
    """``.sample`` (or ``[0]``), as diffusers' output object."""

    sample: torch.Tensor


class SDUNet(nn.Module):
    """The conditional UNet: timestep (+ SDXL size/pooled-text) embedding, down levels, mid block,
    up levels with skip connections; ControlNet and T2I-Adapter residuals where diffusers adds them."""

    _skip_layerwise_casting_patterns = ["norm"]  # fp8 storage keeps norms in the compute dtype, as diffusers'

    @staticmethod
    def supports(config: Mapping[str, Any]) -> str | None:
        """None when this class builds ``config`` (a ``UNet2DConditionModel`` config), else the reason."""
        return unsupported(config)

    def __init__(self, **config: Any):
        super().__init__()
        reason = unsupported(config)
        if reason is not None:
            raise ValueError(f"NodeFlow's UNet cannot build this config: {reason}")
        cfg = self.config = NetConfig({**DEFAULTS, **config})
        widths = list(cfg.block_out_channels)
        n = len(widths)
        layers = per_level(cfg.layers_per_block, n)
        depths = per_level(cfg.transformer_layers_per_block, n)
        heads = per_level(cfg.attention_head_dim, n)
        temb = cfg.time_embedding_dim or widths[0] * 4

        def level(i: int, extra_layer: int = 0) -> Level:
            return Level(
                layers=layers[i] + extra_layer,
                temb=temb,
                groups=cfg.norm_num_groups,
                eps=cfg.norm_eps,
                heads=heads[i],
                depth=depths[i],
                context_dim=cfg.cross_attention_dim,
                linear_projection=cfg.use_linear_projection,
            )

        self.conv_in = nn.Conv2d(cfg.in_channels, widths[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(widths[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(widths[0], temb)
        if cfg.addition_embed_type == "text_time":
            self.add_time_proj = Timesteps(cfg.addition_time_embed_dim, flip_sin_to_cos=True, downscale_freq_shift=0)
            self.add_embedding = TimestepEmbedding(cfg.projection_class_embeddings_input_dim, temb)

        self.down_blocks = nn.ModuleList()
        self.up_blocks = nn.ModuleList()  # registered before the mid block, as diffusers does (state dict order)
        for i, kind in enumerate(cfg.down_block_types):
            block = CrossAttnDownBlock2D if kind == DOWN_TYPES[0] else DownBlock2D
            self.down_blocks.append(block(level(i), widths[max(i - 1, 0)], widths[i], downsample=i < n - 1))
        self.mid_block = None
        if cfg.mid_block_type is not None:
            self.mid_block = UNetMidBlock2DCrossAttn(level(n - 1), widths[-1])
        self.num_upsamplers = n - 1
        for i, kind in enumerate(cfg.up_block_types):
            at = n - 1 - i  # the level this up block mirrors
            block = CrossAttnUpBlock2D if kind == UP_TYPES[0] else UpBlock2D
            prev = widths[min(at + 1, n - 1)]
            skip = widths[max(at - 1, 0)]
            self.up_blocks.append(block(level(at, extra_layer=1), skip, prev, widths[at], upsample=i < n - 1))
        self.conv_norm_out = nn.GroupNorm(num_channels=widths[0], num_groups=cfg.norm_num_groups, eps=cfg.norm_eps)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(widths[0], cfg.out_channels, kernel_size=3, padding=1)

    @property
    def dtype(self) -> torch.dtype:
        return next(p.dtype for p in self.parameters() if p.is_floating_point())

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def _time_embedding(self, sample: torch.Tensor, timestep: torch.Tensor | float | int) -> torch.Tensor:
        if not torch.is_tensor(timestep):
            dtype = torch.float64 if isinstance(timestep, float) else torch.int64
            timestep = torch.tensor([timestep], dtype=dtype, device=sample.device)
        elif timestep.dim() == 0:
            timestep = timestep[None].to(sample.device)
        t_emb = self.time_proj(timestep.expand(sample.shape[0]))  # float32
        return self.time_embedding(t_emb.to(dtype=sample.dtype))

    def _size_embedding(self, emb: torch.Tensor, added: Mapping[str, torch.Tensor] | None) -> torch.Tensor:
        """SDXL: pooled text embedding and size/crop ids -> added to the timestep embedding."""
        for key in ("text_embeds", "time_ids"):
            if added is None or key not in added:
                raise ValueError(f"this SDXL-style UNet needs added_cond_kwargs[{key!r}] (text_time conditioning)")
        text = added["text_embeds"]
        ids = self.add_time_proj(added["time_ids"].flatten()).reshape((text.shape[0], -1))
        return self.add_embedding(torch.concat([text, ids], dim=-1).to(emb.dtype))

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        *,
        added_cond_kwargs: Mapping[str, torch.Tensor] | None = None,
        down_block_additional_residuals: Sequence[torch.Tensor] | None = None,
        mid_block_additional_residual: torch.Tensor | None = None,
        down_intrablock_additional_residuals: Sequence[torch.Tensor] | None = None,
        return_dict: bool = True,
    ) -> UNetOutput | tuple[torch.Tensor]:
        """Noise (or v) prediction. ControlNet residuals (``down_block_additional_residuals`` with
        ``mid_block_additional_residual``) add to the skip features and the mid output; T2I-Adapter
        features (``down_intrablock_additional_residuals``, or down residuals without a mid one) add
        inside the down levels, one per level in order, and to the mid output when the next one fits."""
        context = encoder_hidden_states
        factor = 2**self.num_upsamplers
        forward_size = any(d % factor != 0 for d in sample.shape[-2:])
        emb = self._time_embedding(sample, timestep)
        if self.config.addition_embed_type == "text_time":
            emb = emb + self._size_embedding(emb, added_cond_kwargs)

        controlnet = mid_block_additional_residual is not None and down_block_additional_residuals is not None
        adapter = down_intrablock_additional_residuals
        if adapter is None and mid_block_additional_residual is None and down_block_additional_residuals is not None:
            adapter = down_block_additional_residuals  # diffusers' older T2I-Adapter calling convention
        adapter = list(adapter) if adapter is not None else None

        h = self.conv_in(sample)
        skips: tuple[torch.Tensor, ...] = (h,)
        for block in self.down_blocks:
            if block.has_cross_attention:
                extra = adapter.pop(0) if adapter else None
                h, outputs = block(h, emb, context, additional_residuals=extra)
            else:
                h, outputs = block(h, emb)
                if adapter:
                    h += adapter.pop(0)  # in place: the skip feature that is h changes too, as in diffusers
            skips += outputs

        if controlnet:
            skips = tuple(s + r for s, r in zip(skips, down_block_additional_residuals, strict=False))

        if self.mid_block is not None:
            h = self.mid_block(h, emb, context)
            if adapter and h.shape == adapter[0].shape:
                h += adapter.pop(0)
        if controlnet:
            h = h + mid_block_additional_residual

        upsample_size = None
        for i, block in enumerate(self.up_blocks):
            count = len(block.resnets)
            level_skips, skips = skips[-count:], skips[:-count]
            if i < len(self.up_blocks) - 1 and forward_size:
                upsample_size = skips[-1].shape[2:]
            if block.has_cross_attention:
                h = block(h, level_skips, emb, context, upsample_size=upsample_size)
            else:
                h = block(h, level_skips, emb, upsample_size=upsample_size)

        h = self.conv_out(self.conv_act(self.conv_norm_out(h)))
        return UNetOutput(h) if return_dict else (h,)

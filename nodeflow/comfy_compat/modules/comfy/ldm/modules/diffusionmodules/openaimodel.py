"""comfy.ldm.modules.diffusionmodules.openaimodel for custom-node packs: the SD1/SD2/SDXL UNet in
the released checkpoints' layout (``input_blocks``, ``middle_block``, ``output_blocks``,
``time_embed``, ``label_emb``, ``out``), with ComfyUI's constructor and forward signature.

NodeFlow itself runs SD models as diffusers networks (nodeflow/models); this class is for packs
that build or inspect a UNet of their own. Loading a released UNet state dict into it gives the
same network (tests compare it with NodeFlow's converted diffusers UNet)."""

from __future__ import annotations

from typing import Any

import torch

import comfy.ops
from nodeflow.comfy_compat import missing

from ..attention import SpatialTransformer
from .unet_blocks import Downsample, ResBlock, TimestepBlock, Upsample
from .util import timestep_embedding


class TimestepEmbedSequential(torch.nn.Sequential, TimestepBlock):
    """A sequence of layers that passes the timestep embedding and the context to those taking them."""

    def forward(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        context: Any = None,
        transformer_options: dict | None = None,
        output_shape: Any = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        return forward_timestep_embed(self, x, emb, context, transformer_options, output_shape, **kwargs)


def forward_timestep_embed(
    ts: torch.nn.Module,
    x: torch.Tensor,
    emb: torch.Tensor,
    context: Any = None,
    transformer_options: dict | None = None,
    output_shape: Any = None,
    time_context: Any = None,
    num_video_frames: Any = None,
    image_only_indicator: Any = None,
) -> torch.Tensor:
    """Run each layer of ``ts``: residual blocks get the embedding, transformers the context,
    upsamplers the shape to reach."""
    options = transformer_options if transformer_options is not None else {}
    for layer in ts:
        if isinstance(layer, TimestepBlock):
            x = layer(x, emb)
        elif isinstance(layer, SpatialTransformer):
            x = layer(x, context, options)
            if "transformer_index" in options:
                options["transformer_index"] += 1
        elif isinstance(layer, Upsample):
            x = layer(x, output_shape=output_shape)
        else:
            x = layer(x)
    return x


def _per_block(value: Any, res: list[int]) -> list[int]:
    """Transformer depth per input res-block, from an int, a per-level list or a per-block list."""
    if isinstance(value, int):
        return [value for n in res for _ in range(n)]
    value = list(value)
    if len(value) == len(res):
        return [value[lvl] for lvl, n in enumerate(res) for _ in range(n)]
    if len(value) != sum(res):
        raise ValueError(f"transformer_depth: {len(value)} entries for {len(res)} levels / {sum(res)} res blocks")
    return value


class UNetModel(torch.nn.Module):
    """The latent-diffusion UNet. Argument names and meanings are ComfyUI's (see the census);
    the video options are accepted but not supported (ValueError when used)."""

    def __init__(
        self,
        image_size: Any,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: int | list[int],
        dropout: float = 0,
        channel_mult: tuple = (1, 2, 4, 8),
        conv_resample: bool = True,
        dims: int = 2,
        num_classes: Any = None,
        use_checkpoint: bool = False,
        dtype: torch.dtype = torch.float32,
        num_heads: int = -1,
        num_head_channels: int = -1,
        num_heads_upsample: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
        use_spatial_transformer: bool = False,
        transformer_depth: Any = 1,
        context_dim: int | None = None,
        n_embed: Any = None,
        legacy: bool = True,
        disable_self_attentions: list | None = None,
        num_attention_blocks: list | None = None,
        disable_middle_self_attn: bool = False,
        use_linear_in_transformer: bool = False,
        adm_in_channels: int | None = None,
        transformer_depth_middle: int | None = None,
        transformer_depth_output: list | None = None,
        use_temporal_resblock: bool = False,
        use_temporal_attention: bool = False,
        time_context_dim: Any = None,
        extra_ff_mix_layer: bool = False,
        use_spatial_context: bool = False,
        merge_strategy: Any = None,
        merge_factor: float = 0.0,
        video_kernel_size: Any = None,
        disable_temporal_crossattention: bool = False,
        max_ddpm_temb_period: int = 10000,
        attn_precision: Any = None,
        device: Any = None,
        operations: Any = comfy.ops.disable_weight_init,
        **kwargs: Any,
    ):
        super().__init__()
        if use_temporal_resblock or use_temporal_attention:
            raise ValueError("UNetModel: the video (temporal) variants are not supported by NodeFlow")
        if num_heads == -1 and num_head_channels == -1:
            raise ValueError("UNetModel: set num_heads or num_head_channels")
        levels = len(channel_mult)
        res = [num_res_blocks] * levels if isinstance(num_res_blocks, int) else list(num_res_blocks)
        depth = _per_block(transformer_depth, res)
        depth_middle = depth[-1] if transformer_depth_middle is None else transformer_depth_middle
        if transformer_depth_output is None:
            per_level = [depth[sum(res[:lvl])] if res[lvl] else 0 for lvl in range(levels)]
            transformer_depth_output = [per_level[lvl] for lvl in range(levels) for _ in range(res[lvl] + 1)]
        depth_output = list(transformer_depth_output)
        self.in_channels, self.model_channels, self.out_channels = in_channels, model_channels, out_channels
        self.num_res_blocks, self.channel_mult, self.num_classes = res, channel_mult, num_classes
        self.dtype, self.max_ddpm_temb_period = dtype, max_ddpm_temb_period
        self.predict_codebook_ids = n_embed is not None
        f = {"dtype": dtype, "device": device}
        emb_dim = model_channels * 4
        self.time_embed = torch.nn.Sequential(
            operations.Linear(model_channels, emb_dim, **f), torch.nn.SiLU(), operations.Linear(emb_dim, emb_dim, **f)
        )
        if num_classes == "sequential":
            self.label_emb = torch.nn.Sequential(
                torch.nn.Sequential(
                    operations.Linear(adm_in_channels, emb_dim, **f),
                    torch.nn.SiLU(),
                    operations.Linear(emb_dim, emb_dim, **f),
                )
            )
        elif num_classes == "continuous":
            self.label_emb = torch.nn.Linear(1, emb_dim)
        elif isinstance(num_classes, int):
            self.label_emb = torch.nn.Embedding(num_classes, emb_dim)

        def attention(ch: int, depth_here: int, disable_sa: bool) -> SpatialTransformer:
            heads, dim_head = (
                (ch // num_head_channels, num_head_channels)
                if num_head_channels != -1
                else (num_heads, ch // num_heads)
            )
            if legacy and num_head_channels != -1 and use_spatial_transformer:
                dim_head = ch // heads
            if context_dim is None:
                raise ValueError("UNetModel: transformer blocks need context_dim")
            return SpatialTransformer(
                ch,
                heads,
                dim_head,
                depth=depth_here,
                context_dim=context_dim,
                disable_self_attn=disable_sa,
                use_linear=use_linear_in_transformer,
                use_checkpoint=use_checkpoint,
                attn_precision=attn_precision,
                operations=operations,
                **f,
            )

        def resblock(ch_in: int, ch_out: int, **extra: Any) -> ResBlock:
            return ResBlock(
                ch_in,
                emb_dim,
                dropout,
                out_channels=ch_out,
                dims=dims,
                use_checkpoint=use_checkpoint,
                use_scale_shift_norm=use_scale_shift_norm,
                operations=operations,
                **f,
                **extra,
            )

        self.input_blocks = torch.nn.ModuleList(
            [TimestepEmbedSequential(operations.conv_nd(dims, in_channels, model_channels, 3, padding=1, **f))]
        )
        chans, ch, block = [model_channels], model_channels, 0
        for lvl, mult in enumerate(channel_mult):
            for nr in range(res[lvl]):
                layers: list = [resblock(ch, mult * model_channels)]
                ch = mult * model_channels
                if depth[block] > 0 and (num_attention_blocks is None or nr < num_attention_blocks[lvl]):
                    disable_sa = bool(disable_self_attentions[lvl]) if disable_self_attentions else False
                    layers.append(attention(ch, depth[block], disable_sa))
                block += 1
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                chans.append(ch)
            if lvl != levels - 1:
                down = (
                    resblock(ch, ch, down=True)
                    if resblock_updown
                    else Downsample(ch, conv_resample, dims=dims, out_channels=ch, operations=operations, **f)
                )
                self.input_blocks.append(TimestepEmbedSequential(down))
                chans.append(ch)
        middle: list = [resblock(ch, ch)]
        if depth_middle >= 0:
            if depth_middle > 0:
                middle.append(attention(ch, depth_middle, disable_middle_self_attn))
            middle.append(resblock(ch, ch))
        self.middle_block = TimestepEmbedSequential(*middle)
        self.output_blocks = torch.nn.ModuleList([])
        for lvl, mult in reversed(list(enumerate(channel_mult))):
            for i in range(res[lvl] + 1):
                layers = [resblock(ch + chans.pop(), model_channels * mult)]
                ch = model_channels * mult
                depth_here = depth_output.pop()
                if depth_here > 0 and (num_attention_blocks is None or i < num_attention_blocks[lvl]):
                    disable_sa = bool(disable_self_attentions[lvl]) if disable_self_attentions else False
                    layers.append(attention(ch, depth_here, disable_sa))
                if lvl and i == res[lvl]:
                    layers.append(
                        resblock(ch, ch, up=True)
                        if resblock_updown
                        else Upsample(ch, conv_resample, dims=dims, out_channels=ch, operations=operations, **f)
                    )
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        self.out = torch.nn.Sequential(
            operations.GroupNorm(32, ch, **f),
            torch.nn.SiLU(),
            operations.conv_nd(dims, model_channels, out_channels, 3, padding=1, **f),
        )

    def forward(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        control: dict | None = None,
        transformer_options: dict | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """Network output (eps or v) for ``x`` [B, C, H, W] at ``timesteps`` [B] with cross-attention
        ``context`` [B, T, D] and, for class/ADM-conditioned models, ``y``. ``control`` holds
        ControlNet residuals: lists under "input" (added after each input block, popped from the
        end), "middle" and "output" (added to the skip connections)."""
        options = dict(transformer_options or {})
        options["original_shape"] = list(x.shape)
        options["transformer_index"] = 0
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels).to(x.dtype))
        if self.num_classes is not None:
            if y is None:
                raise ValueError("UNetModel: this model is class-conditioned; pass y")
            emb = emb + self.label_emb(y)
        control = {k: list(v) for k, v in (control or {}).items()}
        h, skips = x, []
        for i, module in enumerate(self.input_blocks):
            options["block"] = ("input", i)
            h = module(h, emb, context, options)
            h = _add_control(h, control, "input")
            skips.append(h)
        options["block"] = ("middle", 0)
        h = _add_control(self.middle_block(h, emb, context, options), control, "middle")
        for i, module in enumerate(self.output_blocks):
            options["block"] = ("output", i)
            skip = _add_control(skips.pop(), control, "output")
            h = torch.cat([h, skip], dim=1)
            h = module(h, emb, context, options, output_shape=skips[-1].shape if skips else None)
        return self.out(h.type(x.dtype))


def _add_control(h: torch.Tensor, control: dict, name: str) -> torch.Tensor:
    residuals = control.get(name)
    if residuals:
        extra = residuals.pop()
        if extra is not None:
            h = h + extra.to(h)
    return h


__all__ = [
    "Downsample",
    "ResBlock",
    "SpatialTransformer",
    "TimestepBlock",
    "TimestepEmbedSequential",
    "UNetModel",
    "Upsample",
    "forward_timestep_embed",
    "timestep_embedding",
]

__getattr__ = missing("comfy.ldm.modules.diffusionmodules.openaimodel")

"""Which ``UNet2DConditionModel`` configs NodeFlow's own UNet builds: every key diffusers' config
holds (with diffusers' defaults, so ``dict(module.config)`` is what the key converters expect)
and the values the SD1 / SD2 / SDXL families use (``detect.unet_config_from_shapes``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DOWN_TYPES = ("CrossAttnDownBlock2D", "DownBlock2D")
UP_TYPES = ("CrossAttnUpBlock2D", "UpBlock2D")
MID_TYPES = ("UNetMidBlock2DCrossAttn", None)

# diffusers 0.x UNet2DConditionModel.__init__ defaults: the full config a diffusers UNet reports
DEFAULTS: dict[str, Any] = {
    "sample_size": None,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "only_cross_attention": False,
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "dropout": 0.0,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 1280,
    "transformer_layers_per_block": 1,
    "reverse_transformer_layers_per_block": None,
    "encoder_hid_dim": None,
    "encoder_hid_dim_type": None,
    "attention_head_dim": 8,
    "num_attention_heads": None,
    "dual_cross_attention": False,
    "use_linear_projection": False,
    "class_embed_type": None,
    "addition_embed_type": None,
    "addition_time_embed_dim": None,
    "num_class_embeds": None,
    "upcast_attention": False,
    "resnet_time_scale_shift": "default",
    "resnet_skip_time_act": False,
    "resnet_out_scale_factor": 1.0,
    "time_embedding_type": "positional",
    "time_embedding_dim": None,
    "time_embedding_act_fn": None,
    "timestep_post_act": None,
    "time_cond_proj_dim": None,
    "conv_in_kernel": 3,
    "conv_out_kernel": 3,
    "projection_class_embeddings_input_dim": None,
    "attention_type": "default",
    "class_embeddings_concat": False,
    "mid_block_only_cross_attention": None,
    "cross_attention_norm": None,
    "addition_embed_type_num_heads": 64,
}

# keys whose value does not change the network NodeFlow builds
FREE = {"sample_size", "addition_embed_type_num_heads"}
# keys read by the builder below; every other key must keep diffusers' default
BUILT = {
    "in_channels",
    "out_channels",
    "down_block_types",
    "mid_block_type",
    "up_block_types",
    "block_out_channels",
    "layers_per_block",
    "norm_num_groups",
    "norm_eps",
    "cross_attention_dim",
    "transformer_layers_per_block",
    "attention_head_dim",
    "use_linear_projection",
    "addition_embed_type",
    "addition_time_embed_dim",
    "time_embedding_dim",
    "projection_class_embeddings_input_dim",
    "mid_block_only_cross_attention",
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def per_level(value: Any, n: int) -> list:
    """An int (or None) for every level, or a sequence with one entry per level."""
    return [value] * n if not isinstance(value, Sequence) else list(value)


def _per_level_ints(cfg: Mapping[str, Any], key: str, n: int) -> str | None:
    value = cfg[key]
    if _is_int(value) and value > 0:
        return None
    if isinstance(value, Sequence) and len(value) == n and all(_is_int(v) and v > 0 for v in value):
        return None
    return f"{key}={value!r}: needs a positive int or one per level ({n})"


def unsupported(config: Mapping[str, Any]) -> str | None:
    """None when the own UNet builds ``config`` exactly as diffusers does, else the reason."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        return f"unknown config keys {unknown}"
    cfg = {**DEFAULTS, **config}
    for key, default in DEFAULTS.items():
        if key not in FREE and key not in BUILT and cfg[key] != default:
            return f"{key}={cfg[key]!r} (only {default!r} is supported)"
    if cfg["mid_block_only_cross_attention"] not in (None, False):
        return f"mid_block_only_cross_attention={cfg['mid_block_only_cross_attention']!r}"
    widths = cfg["block_out_channels"]
    if not isinstance(widths, Sequence) or not widths or not all(_is_int(w) and w > 0 for w in widths):
        return f"block_out_channels={widths!r}: needs positive ints"
    n = len(widths)
    for key, allowed in (("down_block_types", DOWN_TYPES), ("up_block_types", UP_TYPES)):
        types = cfg[key]
        if not isinstance(types, Sequence) or isinstance(types, str) or len(types) != n:
            return f"{key}={types!r}: needs one block type per level ({n})"
        if any(t not in allowed for t in types):
            return f"{key}={tuple(types)!r}: only {allowed} are supported"
    if cfg["mid_block_type"] not in MID_TYPES:
        return f"mid_block_type={cfg['mid_block_type']!r}: only {MID_TYPES} are supported"
    for key in ("layers_per_block", "transformer_layers_per_block", "attention_head_dim"):
        if reason := _per_level_ints(cfg, key, n):
            return reason
    for key in ("in_channels", "out_channels", "cross_attention_dim"):
        if not _is_int(cfg[key]) or cfg[key] <= 0:
            return f"{key}={cfg[key]!r}: needs a positive int"
    if cfg["time_embedding_dim"] is not None and not (
        _is_int(cfg["time_embedding_dim"]) and cfg["time_embedding_dim"] > 0
    ):
        return f"time_embedding_dim={cfg['time_embedding_dim']!r}: needs a positive int or None"
    if not isinstance(cfg["use_linear_projection"], bool):
        return f"use_linear_projection={cfg['use_linear_projection']!r}: needs a bool"
    groups = cfg["norm_num_groups"]
    if not _is_int(groups) or groups <= 0 or any(w % groups for w in widths):
        return f"norm_num_groups={groups!r}: needs a positive int dividing every width {tuple(widths)}"
    if not isinstance(cfg["norm_eps"], (int, float)) or isinstance(cfg["norm_eps"], bool):
        return f"norm_eps={cfg['norm_eps']!r}: needs a number"
    heads = per_level(cfg["attention_head_dim"], n)
    attention = [t == DOWN_TYPES[0] for t in cfg["down_block_types"]]
    attention_up = [t == UP_TYPES[0] for t in cfg["up_block_types"]]
    for i in range(n):
        up = n - 1 - i
        mid = i == n - 1 and cfg["mid_block_type"] is not None
        if (attention[i] or attention_up[up] or mid) and widths[i] % heads[i]:
            return f"attention_head_dim={cfg['attention_head_dim']!r}: {heads[i]} heads do not divide width {widths[i]}"
    if cfg["addition_embed_type"] == "text_time":
        for key in ("addition_time_embed_dim", "projection_class_embeddings_input_dim"):
            if not _is_int(cfg[key]) or cfg[key] <= 0:
                return f"{key}={cfg[key]!r}: text_time conditioning needs a positive int"
    elif cfg["addition_embed_type"] is not None:
        return f"addition_embed_type={cfg['addition_embed_type']!r}: only None and 'text_time' are supported"
    return None

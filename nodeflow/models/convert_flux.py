"""Flux.1 transformer: its config read from the released file's shapes (Black Forest Labs' layout,
``double_blocks.N`` / ``single_blocks.N``) and the renaming to diffusers' FluxTransformer2DModel,
as a table of rules generated from the config. A rule maps one released tensor onto one or more
network tensors (fused q/k/v and the single blocks' q/k/v/mlp are split along the output rows; the
final modulation's shift/scale halves are swapped), so the same table renames a file and tells a
LoRA on a fused layer which rows of which network weights it touches."""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from .convert_rules import Rule, apply_rules, invert_rules

Shape = tuple[int, ...]


def _count(shapes: Mapping[str, Shape], pattern: str) -> int:
    rx = re.compile(pattern)
    return len({m.group(1) for k in shapes if (m := rx.match(k))})


def rope_axes(head_dim: int) -> tuple[int, int, int]:
    """The three RoPE axis widths: (16, 56, 56) for the released 128-wide heads; proportional, even
    widths for smaller test models."""
    if head_dim == 128:
        return (16, 56, 56)
    first = max(2, (head_dim // 8) // 2 * 2)
    second = (head_dim - first) // 2 // 2 * 2
    return (first, second, head_dim - first - second)


def flux_config(shapes: Mapping[str, Shape], family=None, pooled_dim=None) -> dict:
    """FluxTransformer2DModel config from released shapes (without the checkpoint prefix)."""
    if "img_in.weight" not in shapes:
        raise ValueError("Flux: img_in.weight is missing; not a Flux transformer in the released layout")
    hidden, in_features = shapes["img_in.weight"]
    head_dim = shapes["double_blocks.0.img_attn.norm.query_norm.scale"][0]
    return {
        "patch_size": 1,
        "in_channels": in_features,
        "out_channels": shapes["final_layer.linear.weight"][0],
        "num_layers": _count(shapes, r"double_blocks\.(\d+)\."),
        "num_single_layers": _count(shapes, r"single_blocks\.(\d+)\."),
        "attention_head_dim": head_dim,
        "num_attention_heads": hidden // head_dim,
        "joint_attention_dim": shapes["txt_in.weight"][1],
        "pooled_projection_dim": shapes["vector_in.in_layer.weight"][1],
        "guidance_embeds": "guidance_in.in_layer.weight" in shapes,
        "axes_dims_rope": rope_axes(head_dim),
    }


def flux_rules(config: dict) -> list[Rule]:
    d = config["num_attention_heads"] * config["attention_head_dim"]
    mlp = 4 * d
    rules = [
        Rule("time_in.in_layer", ("time_text_embed.timestep_embedder.linear_1",)),
        Rule("time_in.out_layer", ("time_text_embed.timestep_embedder.linear_2",)),
        Rule("vector_in.in_layer", ("time_text_embed.text_embedder.linear_1",)),
        Rule("vector_in.out_layer", ("time_text_embed.text_embedder.linear_2",)),
        Rule("txt_in", ("context_embedder",)),
        Rule("img_in", ("x_embedder",)),
        Rule("final_layer.linear", ("proj_out",)),
        Rule("final_layer.adaLN_modulation.1", ("norm_out.linear",), swap=True),
    ]
    if config.get("guidance_embeds"):
        rules += [
            Rule("guidance_in.in_layer", ("time_text_embed.guidance_embedder.linear_1",)),
            Rule("guidance_in.out_layer", ("time_text_embed.guidance_embedder.linear_2",)),
        ]
    for i in range(config["num_layers"]):
        s, t = f"double_blocks.{i}.", f"transformer_blocks.{i}."
        rules += [
            Rule(s + "img_mod.lin", (t + "norm1.linear",)),
            Rule(s + "txt_mod.lin", (t + "norm1_context.linear",)),
            Rule(s + "img_attn.qkv", (t + "attn.to_q", t + "attn.to_k", t + "attn.to_v"), (d, d, d)),
            Rule(s + "txt_attn.qkv", (t + "attn.add_q_proj", t + "attn.add_k_proj", t + "attn.add_v_proj"), (d, d, d)),
            Rule(s + "img_attn.norm.query_norm", (t + "attn.norm_q",), scale_to_weight=True),
            Rule(s + "img_attn.norm.key_norm", (t + "attn.norm_k",), scale_to_weight=True),
            Rule(s + "txt_attn.norm.query_norm", (t + "attn.norm_added_q",), scale_to_weight=True),
            Rule(s + "txt_attn.norm.key_norm", (t + "attn.norm_added_k",), scale_to_weight=True),
            Rule(s + "img_mlp.0", (t + "ff.net.0.proj",)),
            Rule(s + "img_mlp.2", (t + "ff.net.2",)),
            Rule(s + "txt_mlp.0", (t + "ff_context.net.0.proj",)),
            Rule(s + "txt_mlp.2", (t + "ff_context.net.2",)),
            Rule(s + "img_attn.proj", (t + "attn.to_out.0",)),
            Rule(s + "txt_attn.proj", (t + "attn.to_add_out",)),
        ]
    for i in range(config["num_single_layers"]):
        s, t = f"single_blocks.{i}.", f"single_transformer_blocks.{i}."
        rules += [
            Rule(s + "modulation.lin", (t + "norm.linear",)),
            Rule(s + "linear1", (t + "attn.to_q", t + "attn.to_k", t + "attn.to_v", t + "proj_mlp"), (d, d, d, mlp)),
            Rule(s + "norm.query_norm", (t + "attn.norm_q",), scale_to_weight=True),
            Rule(s + "norm.key_norm", (t + "attn.norm_k",), scale_to_weight=True),
            Rule(s + "linear2", (t + "proj_out",)),
        ]
    return rules


def flux_to_diffusers(state: Mapping[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    return apply_rules(state, flux_rules(config), "Flux transformer")


def flux_from_diffusers(state: Mapping[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    """The network's tensors under the released names (for saving), by the same table inverted."""
    return invert_rules(state, flux_rules(config), "Flux transformer")

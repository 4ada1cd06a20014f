"""SD3 / SD3.5 MMDiT: its config read from the released file's shapes (Stability's layout,
``joint_blocks.N.{x_block,context_block}``) and the renaming to diffusers' SD3Transformer2DModel
(a table of rules, see convert_rules.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch

from .convert_rules import Rule, apply_rules, invert_rules

Shape = tuple[int, ...]


def _blocks(shapes: Mapping[str, Shape], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in shapes if (m := rx.match(k))})


def mmdit_config(shapes: Mapping[str, Shape], family=None, pooled_dim=None) -> dict:
    """SD3Transformer2DModel config from released shapes (without the checkpoint prefix)."""
    if "x_embedder.proj.weight" not in shapes:
        raise ValueError("SD3: x_embedder.proj.weight is missing; not an MMDiT in the released layout")
    hidden, in_channels, patch, _ = shapes["x_embedder.proj.weight"]
    ln_q = shapes.get("joint_blocks.0.x_block.attn.ln_q.weight")
    head_dim = ln_q[0] if ln_q is not None else 64
    return {
        "sample_size": 128,
        "patch_size": patch,
        "in_channels": in_channels,
        "out_channels": shapes["final_layer.linear.weight"][0] // (patch * patch),
        "num_layers": len(_blocks(shapes, r"joint_blocks\.(\d+)\.")),
        "attention_head_dim": head_dim,
        "num_attention_heads": hidden // head_dim,
        "joint_attention_dim": shapes["context_embedder.weight"][1],
        "caption_projection_dim": shapes["context_embedder.weight"][0],
        "pooled_projection_dim": shapes["y_embedder.mlp.0.weight"][1],
        "pos_embed_max_size": math.isqrt(shapes["pos_embed"][1]),
        "dual_attention_layers": tuple(_blocks(shapes, r"joint_blocks\.(\d+)\.x_block\.attn2\.qkv\.weight")),
        "qk_norm": "rms_norm" if ln_q is not None else None,
    }


def mmdit_to_diffusers(state: Mapping[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    return apply_rules(state, mmdit_rules(config), "SD3 transformer")


def mmdit_from_diffusers(state: Mapping[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    """The network's tensors under the released names (for saving), by the same table inverted."""
    return invert_rules(state, mmdit_rules(config), "SD3 transformer")


def mmdit_rules(config: dict) -> list[Rule]:
    d = config["num_attention_heads"] * config["attention_head_dim"]
    qkv = (d, d, d)
    rules = [
        Rule("pos_embed", ("pos_embed.pos_embed",), raw=True),
        Rule("x_embedder.proj", ("pos_embed.proj",)),
        Rule("t_embedder.mlp.0", ("time_text_embed.timestep_embedder.linear_1",)),
        Rule("t_embedder.mlp.2", ("time_text_embed.timestep_embedder.linear_2",)),
        Rule("y_embedder.mlp.0", ("time_text_embed.text_embedder.linear_1",)),
        Rule("y_embedder.mlp.2", ("time_text_embed.text_embedder.linear_2",)),
        Rule("context_embedder", ("context_embedder",)),
        Rule("final_layer.linear", ("proj_out",)),
        Rule("final_layer.adaLN_modulation.1", ("norm_out.linear",), swap=True),
    ]
    last = config["num_layers"] - 1
    for i in range(config["num_layers"]):
        x, c, t = f"joint_blocks.{i}.x_block.", f"joint_blocks.{i}.context_block.", f"transformer_blocks.{i}."
        rules += [
            Rule(x + "adaLN_modulation.1", (t + "norm1.linear",)),
            Rule(c + "adaLN_modulation.1", (t + "norm1_context.linear",), swap=i == last),
            Rule(x + "attn.qkv", (t + "attn.to_q", t + "attn.to_k", t + "attn.to_v"), qkv),
            Rule(c + "attn.qkv", (t + "attn.add_q_proj", t + "attn.add_k_proj", t + "attn.add_v_proj"), qkv),
            Rule(x + "attn.proj", (t + "attn.to_out.0",)),
            Rule(x + "mlp.fc1", (t + "ff.net.0.proj",)),
            Rule(x + "mlp.fc2", (t + "ff.net.2",)),
        ]
        if config.get("qk_norm"):  # SD3.5's RMS q/k norms (absent in SD3 medium)
            rules += [
                Rule(x + "attn.ln_q", (t + "attn.norm_q",)),
                Rule(x + "attn.ln_k", (t + "attn.norm_k",)),
                Rule(c + "attn.ln_q", (t + "attn.norm_added_q",)),
                Rule(c + "attn.ln_k", (t + "attn.norm_added_k",)),
            ]
        if i != last:  # the last context block is "pre-only": no output projection, no MLP
            rules += [
                Rule(c + "attn.proj", (t + "attn.to_add_out",)),
                Rule(c + "mlp.fc1", (t + "ff_context.net.0.proj",)),
                Rule(c + "mlp.fc2", (t + "ff_context.net.2",)),
            ]
        if i in config.get("dual_attention_layers", ()):
            rules += [
                Rule(x + "attn2.qkv", (t + "attn2.to_q", t + "attn2.to_k", t + "attn2.to_v"), qkv),
                Rule(x + "attn2.proj", (t + "attn2.to_out.0",)),
            ]
            if config.get("qk_norm"):
                rules += [Rule(x + "attn2.ln_q", (t + "attn2.norm_q",)), Rule(x + "attn2.ln_k", (t + "attn2.norm_k",))]
    return rules

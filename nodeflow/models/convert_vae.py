"""Rename VAE weights between the original (LDM ``first_stage_model``) layout and diffusers.

Original keys are given without the ``first_stage_model.`` prefix.  The decoder's ``up.N``
counts from the highest resolution, diffusers' ``up_blocks`` from the lowest, so the
index is reversed.  The mid-block attention's 1x1 convolutions become Linear layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from nodeflow.models.convert_unet import remap, shape_fixer

RESNET_NAMES = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "nin_shortcut": "conv_shortcut"}
ATTN_NAMES = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}
_LINEAR_LEAVES = {"q", "k", "v", "proj_out", "to_q", "to_k", "to_v", "to_out.0"}


def vae_module_table(config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Pairs of (original, diffusers) module prefixes with kind "resnet", "attn" or "plain"."""
    n = len(tuple(config.get("block_out_channels", (64,))))
    res = int(config.get("layers_per_block", 1))
    table = [
        (name, name, "plain") for name in ("encoder.conv_in", "encoder.conv_out", "decoder.conv_in", "decoder.conv_out")
    ]
    table += [
        ("encoder.norm_out", "encoder.conv_norm_out", "plain"),
        ("decoder.norm_out", "decoder.conv_norm_out", "plain"),
    ]
    if config.get("use_quant_conv", True):
        table.append(("quant_conv", "quant_conv", "plain"))
    if config.get("use_post_quant_conv", True):
        table.append(("post_quant_conv", "post_quant_conv", "plain"))
    for part in ("encoder", "decoder"):
        table += [
            (f"{part}.mid.block_1", f"{part}.mid_block.resnets.0", "resnet"),
            (f"{part}.mid.block_2", f"{part}.mid_block.resnets.1", "resnet"),
        ]
        if config.get("mid_block_add_attention", True):
            table.append((f"{part}.mid.attn_1", f"{part}.mid_block.attentions.0", "attn"))
    for lvl in range(n):
        for j in range(res):
            table.append((f"encoder.down.{lvl}.block.{j}", f"encoder.down_blocks.{lvl}.resnets.{j}", "resnet"))
        if lvl != n - 1:
            table.append(
                (f"encoder.down.{lvl}.downsample.conv", f"encoder.down_blocks.{lvl}.downsamplers.0.conv", "plain")
            )
        up = n - 1 - lvl
        for j in range(res + 1):  # the decoder has one more res block per level
            table.append((f"decoder.up.{lvl}.block.{j}", f"decoder.up_blocks.{up}.resnets.{j}", "resnet"))
        if lvl != 0:
            table.append((f"decoder.up.{lvl}.upsample.conv", f"decoder.up_blocks.{up}.upsamplers.0.conv", "plain"))
    return table


def _fixer(to_linear: bool):
    return shape_fixer(_LINEAR_LEAVES, to_linear)


def vae_to_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Original VAE names (prefix stripped) -> ``diffusers.AutoencoderKL`` names."""
    table = {o: (d, k) for o, d, k in vae_module_table(config)}
    return remap(sd, table, {"resnet": RESNET_NAMES, "attn": ATTN_NAMES}, _fixer(True), "VAE (original layout)")


def vae_from_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``diffusers.AutoencoderKL`` names -> original VAE names (without prefix); attention as 1x1 convs."""
    table = {d: (o, k) for o, d, k in vae_module_table(config)}
    names = {"resnet": {v: k for k, v in RESNET_NAMES.items()}, "attn": {v: k for k, v in ATTN_NAMES.items()}}
    return remap(sd, table, names, _fixer(False), "VAE (diffusers layout)")

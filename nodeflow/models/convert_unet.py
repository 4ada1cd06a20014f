"""Rename UNet weights between the original (LDM ``openaimodel``) layout and diffusers.

The mapping is generated from the UNet config (levels, res blocks per level, which levels
have attention, mid block, SDXL's label embedding), so it covers any size of model.
Original keys are given without the ``model.diffusion_model.`` prefix.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import torch

# Original res-block sub-module -> diffusers ResnetBlock2D sub-module.
RESNET_NAMES = {
    "in_layers.0": "norm1",
    "in_layers.2": "conv1",
    "emb_layers.1": "time_emb_proj",
    "out_layers.0": "norm2",
    "out_layers.3": "conv2",
    "skip_connection": "conv_shortcut",
}

# A module table is a list of (original prefix, diffusers prefix, kind).
ModuleTable = list[tuple[str, str, str]]


def _per_level(value: Any, n: int) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [int(value)] * n


def unet_module_table(config: Mapping[str, Any]) -> ModuleTable:
    """Pairs of (original, diffusers) module prefixes with kind "resnet", "attn" or "plain"."""
    widths = tuple(config.get("block_out_channels", (320, 640, 1280, 1280)))
    n = len(widths)
    down_types = tuple(config.get("down_block_types", ("CrossAttnDownBlock2D",) * (n - 1) + ("DownBlock2D",)))
    if len(down_types) != n:
        raise ValueError(f"{len(down_types)} down_block_types for {n} block_out_channels")
    attn = ["CrossAttn" in t for t in down_types]
    res = _per_level(config.get("layers_per_block", 2), n)
    table: ModuleTable = [
        ("input_blocks.0.0", "conv_in", "plain"),
        ("time_embed.0", "time_embedding.linear_1", "plain"),
        ("time_embed.2", "time_embedding.linear_2", "plain"),
        ("out.0", "conv_norm_out", "plain"),
        ("out.2", "conv_out", "plain"),
    ]
    if config.get("addition_embed_type") == "text_time":
        table += [
            ("label_emb.0.0", "add_embedding.linear_1", "plain"),
            ("label_emb.0.2", "add_embedding.linear_2", "plain"),
        ]
    elif config.get("addition_embed_type") or config.get("class_embed_type"):
        raise ValueError("only the SDXL 'text_time' extra embedding is supported")

    idx = 1
    for lvl in range(n):
        for j in range(res[lvl]):
            table.append((f"input_blocks.{idx}.0", f"down_blocks.{lvl}.resnets.{j}", "resnet"))
            if attn[lvl]:
                table.append((f"input_blocks.{idx}.1", f"down_blocks.{lvl}.attentions.{j}", "attn"))
            idx += 1
        if lvl != n - 1:
            table.append((f"input_blocks.{idx}.0.op", f"down_blocks.{lvl}.downsamplers.0.conv", "plain"))
            idx += 1

    mid = config.get("mid_block_type", "UNetMidBlock2DCrossAttn")
    if mid == "UNetMidBlock2DCrossAttn":
        table += [
            ("middle_block.0", "mid_block.resnets.0", "resnet"),
            ("middle_block.1", "mid_block.attentions.0", "attn"),
            ("middle_block.2", "mid_block.resnets.1", "resnet"),
        ]
    elif mid is not None:
        raise ValueError(f"mid_block_type {mid!r} is not supported")

    idx = 0
    for up in range(n):
        lvl = n - 1 - up  # diffusers up_blocks run from the deepest level back up
        for j in range(res[lvl] + 1):
            table.append((f"output_blocks.{idx}.0", f"up_blocks.{up}.resnets.{j}", "resnet"))
            sub = 1
            if attn[lvl]:
                table.append((f"output_blocks.{idx}.1", f"up_blocks.{up}.attentions.{j}", "attn"))
                sub = 2
            if j == res[lvl] and up != n - 1:
                table.append((f"output_blocks.{idx}.{sub}.conv", f"up_blocks.{up}.upsamplers.0.conv", "plain"))
            idx += 1
    return table


def split_known_prefix(key: str, prefixes: Mapping[str, Any]) -> tuple[str, str] | None:
    """Split ``key`` into (longest dotted prefix found in ``prefixes``, remainder)."""
    parts = key.split(".")
    for n in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:n])
        if head in prefixes:
            return head, ".".join(parts[n:])
    return None


def remap(
    sd: Mapping[str, torch.Tensor],
    table: Mapping[str, tuple[str, str]],
    leaf_names: Mapping[str, Mapping[str, str]],
    fix,
    what: str,
) -> dict[str, torch.Tensor]:
    """Rename every key of ``sd`` through a module table; unknown keys raise ``ValueError``.

    ``table`` maps a source module prefix to (target prefix, kind); ``leaf_names[kind]`` renames
    the sub-module part (kinds without an entry keep it); ``fix(kind, leaf, tensor)`` reshapes.
    """
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, tensor in sd.items():
        hit = split_known_prefix(key, table)
        if hit is None:
            unknown.append(key)
            continue
        head, rest = hit
        target, kind = table[head]
        leaf, _, param = rest.rpartition(".")
        names = leaf_names.get(kind)
        if names is not None:
            if leaf not in names:
                unknown.append(key)
                continue
            leaf = names[leaf]
        new_rest = f"{leaf}.{param}" if leaf else param
        out[f"{target}.{new_rest}"] = fix(kind, leaf, tensor)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise ValueError(f"{what}: {len(unknown)} tensor name(s) do not fit the given config: {shown}")
    return out


def shape_fixer(leaves: Collection[str], to_linear: bool):
    """A remap ``fix`` that turns the weights of attention ``leaves`` into Linear [out, in] form
    (``to_linear``) or 1x1-conv [out, in, 1, 1] form; shared by the UNet and VAE converters."""

    def fix(kind: str, leaf: str, t: torch.Tensor) -> torch.Tensor:
        if kind != "attn" or leaf not in leaves or t.ndim < 2:
            return t
        if to_linear and t.ndim == 4:
            return t.reshape(t.shape[0], t.shape[1])
        if not to_linear and t.ndim == 2:
            return t.reshape(t.shape[0], t.shape[1], 1, 1)
        return t

    return fix


def _proj_fixer(config: Mapping[str, Any]):
    """Reshape transformer proj_in/proj_out weights into the form the config asks for."""
    return shape_fixer(("proj_in", "proj_out"), bool(config.get("use_linear_projection", False)))


def unet_to_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Original UNet names (prefix stripped) -> ``diffusers.UNet2DConditionModel`` names."""
    table = {o: (d, k) for o, d, k in unet_module_table(config)}
    return remap(sd, table, {"resnet": RESNET_NAMES}, _proj_fixer(config), "UNet (original layout)")


def unet_from_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``diffusers.UNet2DConditionModel`` names -> original UNet names (without prefix)."""
    table = {d: (o, k) for o, d, k in unet_module_table(config)}
    names = {"resnet": {v: k for k, v in RESNET_NAMES.items()}}
    return remap(sd, table, names, _proj_fixer(config), "UNet (diffusers layout)")

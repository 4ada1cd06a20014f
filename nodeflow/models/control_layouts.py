"""Recognise ControlNet and T2I-Adapter files from tensor names and shapes, read their network
config, and rename their tensors to the diffusers modules that run them.

Layouts (see tests/data/*_keys.json.gz for the released files):
- ControlNet, original (cldm) layout: ``[control_model.]input_blocks / middle_block / time_embed
  [/ label_emb]`` (the UNet encoder's names), ``zero_convs.N.0``, ``middle_block_out.0``,
  ``input_hint_block.{0,2,...,14}``; a ``difference`` tensor marks a diff ControlNet (deltas to
  the base UNet's weights).
- ControlNet, diffusers layout (``ControlNetModel`` names, SDXL releases).
- T2I-Adapter, TencentARC layout (``conv_in``, ``body.N.block1/block2/in_conv``) and diffusers
  layout (``adapter.conv_in``, ``adapter.body.L.resnets.J``; SDXL adapters).

The encoder half of a ControlNet is renamed with the UNet's own module table (convert_unet), and
its family is recognised by the UNet families' own rules (family.recognise)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .convert_unet import RESNET_NAMES, remap, shape_fixer, unet_module_table
from .family import ModelFamily, Recognition, family_named, recognise

Shape = tuple[int, ...]
LDM_PREFIX = "control_model."
CONTROLNET_ARGS = (
    "in_channels",
    "down_block_types",
    "block_out_channels",
    "layers_per_block",
    "transformer_layers_per_block",
    "cross_attention_dim",
    "attention_head_dim",
    "use_linear_projection",
    "norm_num_groups",
    "mid_block_type",
    "addition_embed_type",
    "addition_time_embed_dim",
    "projection_class_embeddings_input_dim",
)
# settings of a diffusers folder's config.json that shapes cannot show
FOLDER_ONLY_ARGS = (
    "attention_head_dim",
    "num_attention_heads",
    "upcast_attention",
    "global_pool_conditions",
    "controlnet_conditioning_channel_order",
    "addition_time_embed_dim",
)


class ControlFileError(ValueError):
    """A file that is not a ControlNet / T2I-Adapter NodeFlow can run; the message says why."""


@dataclass(frozen=True)
class ControlLayout:
    kind: str  # "controlnet" | "t2i_adapter"
    layout: str  # "ldm" | "diffusers" | "tencentarc"
    family: ModelFamily  # the base family it was trained for
    config: dict  # ControlNetModel / T2IAdapter arguments
    difference: bool = False  # a diff ControlNet: weights are deltas to the base UNet's


def _indices(keys, pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in keys if (m := rx.match(k))})


def strip_prefix(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove ``control_model.`` where the file has it (as ComfyUI: checked on zero_convs.0)."""
    if LDM_PREFIX + "zero_convs.0.0.weight" in sd:
        return {k[len(LDM_PREFIX) :]: v for k, v in sd.items() if k.startswith(LDM_PREFIX)}
    return dict(sd)


def _refuse(keys) -> None:
    if any(k.startswith("lora_controlnet") for k in keys) or any("lora_up" in k for k in keys):
        raise ControlFileError("this is a control-LoRA; NodeFlow runs full ControlNets and T2I-Adapters only")
    if any(k.startswith(("task_embedding", "control_add_embedding", "transformer_layes")) for k in keys):
        raise ControlFileError(
            "this is a Union ControlNet (controlnet-union); NodeFlow does not run those yet, "
            "use a single-purpose ControlNet"
        )
    if "style_embedding" in keys or any(k.endswith("out_conv.weight") and "body." in k for k in keys):
        raise ControlFileError(
            "this is a light or style T2I-Adapter; NodeFlow runs the full T2I-Adapters "
            "(canny, sketch, depth, openpose, ...) only"
        )


def recognise_control(shapes: Mapping[str, Shape]) -> ControlLayout:
    """What a control file is, from its names and shapes (``control_model.`` already stripped)."""
    keys = set(shapes)
    _refuse(keys)
    if "zero_convs.0.0.weight" in keys:
        return _ldm_layout(shapes)
    if "controlnet_cond_embedding.conv_in.weight" in keys:
        return _diffusers_layout(shapes)
    if "conv_in.weight" in keys and "body.0.block1.weight" in keys:
        return _adapter_tencentarc(shapes)
    if "adapter.conv_in.weight" in keys and "adapter.body.0.resnets.0.block1.weight" in keys:
        return _adapter_diffusers(shapes)
    raise ControlFileError(
        "not a ControlNet or T2I-Adapter: none of zero_convs.0.0.weight, "
        "controlnet_cond_embedding.conv_in.weight, conv_in + body.0.block1 or adapter.conv_in "
        "is in the file"
    )


# ----------------------------------------------------------------------------- ControlNets


def _family_of(unet_shapes: Mapping[str, Shape]) -> ModelFamily:
    return recognise(Recognition(unet=unet_shapes, text_prefixes=frozenset(), text_kinds=frozenset()))


def _hint_convs(shapes: Mapping[str, Shape]) -> list[int]:
    return _indices(shapes, r"input_hint_block\.(\d+)\.weight")


def _ldm_layout(shapes: Mapping[str, Shape]) -> ControlLayout:
    from .detect import unet_config_from_shapes

    encoder = {
        k: v for k, v in shapes.items() if k.startswith(("input_blocks.", "middle_block.", "time_embed.", "label_emb."))
    }
    family = _family_of(encoder)
    unet = unet_config_from_shapes(encoder, family, None)
    if isinstance(unet["layers_per_block"], tuple) or "time_embedding_dim" in unet:
        raise ControlFileError(
            "this ControlNet's encoder has an irregular layout diffusers' ControlNetModel cannot "
            "express (uneven res blocks per level or a custom time embedding)"
        )
    convs = _hint_convs(shapes)
    config = {k: unet[k] for k in CONTROLNET_ARGS if k in unet}
    config["conditioning_channels"] = shapes["input_hint_block.0.weight"][1]
    config["conditioning_embedding_out_channels"] = tuple(
        shapes[f"input_hint_block.{i}.weight"][0] for i in convs[:-1:2]
    )
    return ControlLayout("controlnet", "ldm", family, config, difference="difference" in shapes)


def _ldm_table(config: Mapping) -> dict[str, tuple[str, str]]:
    """Original ControlNet module prefix -> (ControlNetModel prefix, kind)."""
    table = {
        o: (d, k)
        for o, d, k in unet_module_table(_as_unet(config))
        if o.startswith(("input_blocks.", "middle_block.", "time_embed.", "label_emb."))
    }
    levels, per_level = len(config["block_out_channels"]), config["layers_per_block"]
    for i in range(levels * (per_level + 1)):  # one zero conv per input block (conv_in, res blocks, downsamplers)
        table[f"zero_convs.{i}.0"] = (f"controlnet_down_blocks.{i}", "plain")
    table["middle_block_out.0"] = ("controlnet_mid_block", "plain")
    convs = 2 * len(config["conditioning_embedding_out_channels"])  # conv_in, 2 per width change, conv_out
    for n in range(convs):  # a SiLU sits between the convs: they are input_hint_block.0, .2, .4 ...
        target = "conv_in" if n == 0 else "conv_out" if n == convs - 1 else f"blocks.{n - 1}"
        table[f"input_hint_block.{2 * n}"] = (f"controlnet_cond_embedding.{target}", "plain")
    return table


def _as_unet(config: Mapping) -> dict:
    """The UNet config whose encoder a ControlNet config describes (for the module table)."""
    n = len(config["block_out_channels"])
    return {
        **config,
        "mid_block_type": config.get("mid_block_type", "UNetMidBlock2DCrossAttn"),
        "down_block_types": tuple(
            config.get("down_block_types", ("CrossAttnDownBlock2D",) * (n - 1) + ("DownBlock2D",))
        ),
    }


def controlnet_to_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping) -> dict[str, torch.Tensor]:
    """Original-layout ControlNet tensors (prefix stripped) -> ControlNetModel names."""
    fix = shape_fixer(("proj_in", "proj_out"), bool(config.get("use_linear_projection", False)))
    sd = {k: v for k, v in sd.items() if k != "difference"}
    return remap(sd, _ldm_table(config), {"resnet": RESNET_NAMES}, fix, "ControlNet (original layout)")


def controlnet_from_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping) -> dict[str, torch.Tensor]:
    """ControlNetModel names -> original-layout ControlNet names (without ``control_model.``)."""
    fix = shape_fixer(("proj_in", "proj_out"), bool(config.get("use_linear_projection", False)))
    table = {d: (o, k) for o, (d, k) in _ldm_table(config).items()}
    return remap(sd, table, {"resnet": {v: k for k, v in RESNET_NAMES.items()}}, fix, "ControlNet (diffusers layout)")


def _diffusers_layout(shapes: Mapping[str, Shape]) -> ControlLayout:
    from .detect import _groups

    levels = _indices(shapes, r"down_blocks\.(\d+)\.")
    widths = tuple(shapes[f"down_blocks.{i}.resnets.0.conv1.weight"][0] for i in levels)
    depths = [len(_indices(shapes, rf"down_blocks\.{i}\.attentions\.0\.transformer_blocks\.(\d+)\.")) for i in levels]
    mid_depth = len(_indices(shapes, r"mid_block\.attentions\.0\.transformer_blocks\.(\d+)\."))
    attn = next((k for k in sorted(shapes) if k.endswith("attn2.to_k.weight")), None)
    proj = next((k for k in sorted(shapes) if k.endswith(".proj_in.weight")), None)
    if attn is None or proj is None:
        raise ControlFileError("this diffusers ControlNet has no cross-attention; not a Stable Diffusion ControlNet")
    tl = [d or 1 for d in depths]
    if mid_depth:
        tl[-1] = mid_depth
    embed = [shapes["controlnet_cond_embedding.conv_in.weight"][0]] + [
        shapes[f"controlnet_cond_embedding.blocks.{i}.weight"][0]
        for i in _indices(shapes, r"controlnet_cond_embedding\.blocks\.(\d+)\.")[1::2]
    ]
    config = {
        "in_channels": shapes["conv_in.weight"][1],
        "conditioning_channels": shapes["controlnet_cond_embedding.conv_in.weight"][1],
        "conditioning_embedding_out_channels": tuple(embed),
        "down_block_types": tuple("CrossAttnDownBlock2D" if d else "DownBlock2D" for d in depths),
        "block_out_channels": widths,
        "layers_per_block": len(_indices(shapes, r"down_blocks\.0\.resnets\.(\d+)\.")),
        "transformer_layers_per_block": tl[0] if len(set(tl)) == 1 else tuple(tl),
        "cross_attention_dim": shapes[attn][1],
        "use_linear_projection": len(shapes[proj]) == 2,
        "norm_num_groups": _groups(widths),
        "mid_block_type": "UNetMidBlock2DCrossAttn" if mid_depth else None,
    }
    if "add_embedding.linear_1.weight" in shapes:
        config.update(
            addition_embed_type="text_time",
            addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=shapes["add_embedding.linear_1.weight"][1],
        )
    # recognise the family on the original names, with the families' own rules
    meta = {k: torch.empty(v, device="meta") for k, v in shapes.items()}
    ldm = {k: tuple(v.shape) for k, v in controlnet_from_diffusers(meta, config).items()}
    family = _family_of(
        {k: v for k, v in ldm.items() if not k.startswith(("zero_convs", "input_hint", "middle_block_out"))}
    )
    config["attention_head_dim"] = family.heads(widths)
    return ControlLayout("controlnet", "diffusers", family, config)


# ----------------------------------------------------------------------------- T2I-Adapters


def _adapter_config(cin: int, channels: list[int], res_blocks: int, where: str) -> tuple[dict, ModelFamily]:
    xl = cin in (256, 768)
    factor = 16 if xl else 8
    if cin % (factor * factor):
        raise ControlFileError(
            f"T2I-Adapter ({where}): conv_in takes {cin} channels, not a 1- or 3-channel hint "
            f"after an {factor}x pixel unshuffle"
        )
    config = {
        "in_channels": cin // (factor * factor),
        "channels": channels,
        "num_res_blocks": res_blocks,
        "downscale_factor": factor,
        "adapter_type": "full_adapter_xl" if xl else "full_adapter",
    }
    return config, family_named("sdxl" if xl else "sd1")


def _adapter_tencentarc(shapes: Mapping[str, Shape]) -> ControlLayout:
    bodies = _indices(shapes, r"body\.(\d+)\.")
    if any(k.startswith("body.") and ".down_opt." in k for k in shapes) or shapes["body.0.block2.weight"][-1] != 1:
        raise ControlFileError(
            "this T2I-Adapter uses conv downsampling or 3x3 skip convs (an early variant); "
            "NodeFlow runs the sd14v1/sd15v2 layout (1x1 convs, average pooling)"
        )
    res_blocks = 2  # every released TencentARC adapter has two res blocks per level
    if len(bodies) % res_blocks:
        raise ControlFileError(f"T2I-Adapter: {len(bodies)} body blocks do not make levels of {res_blocks}")
    channels = [shapes[f"body.{i}.block1.weight"][0] for i in bodies[::res_blocks]]
    config, family = _adapter_config(shapes["conv_in.weight"][1], channels, res_blocks, "TencentARC layout")
    if config["adapter_type"] != "full_adapter":
        raise ControlFileError(
            "SDXL T2I-Adapters are released in the diffusers layout (adapter.*); this file has "
            "TencentARC's SD1 names with an SDXL input width"
        )
    return ControlLayout("t2i_adapter", "tencentarc", family, config)


def adapter_to_diffusers(sd: Mapping[str, torch.Tensor], config: Mapping) -> dict[str, torch.Tensor]:
    """TencentARC adapter names -> diffusers T2IAdapter names."""
    per = config["num_res_blocks"]
    out = {}
    for key, tensor in sd.items():
        m = re.match(r"body\.(\d+)\.(block1|block2|in_conv)\.(weight|bias)$", key)
        if key.startswith("conv_in."):
            out["adapter." + key] = tensor
        elif m:
            i, part, param = int(m.group(1)), m.group(2), m.group(3)
            level, j = divmod(i, per)
            name = f"in_conv.{param}" if part == "in_conv" else f"resnets.{j}.{part}.{param}"
            out[f"adapter.body.{level}.{name}"] = tensor
        else:
            raise ControlFileError(f"T2I-Adapter (TencentARC layout): unexpected tensor {key!r}")
    return out


def _adapter_diffusers(shapes: Mapping[str, Shape]) -> ControlLayout:
    levels = _indices(shapes, r"adapter\.body\.(\d+)\.")
    channels = [shapes[f"adapter.body.{i}.resnets.0.block1.weight"][0] for i in levels]
    res_blocks = len(_indices(shapes, r"adapter\.body\.0\.resnets\.(\d+)\."))
    config, family = _adapter_config(shapes["adapter.conv_in.weight"][1], channels, res_blocks, "diffusers layout")
    return ControlLayout("t2i_adapter", "diffusers", family, config)

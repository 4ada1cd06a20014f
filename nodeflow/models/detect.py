"""Recognise a Stable Diffusion single-file checkpoint (original "LDM" layout) from tensor shapes.

Only names and shapes are used, so the detector works on a safetensors header, a
``{name: tensor.shape}`` dict or the shapes of meta tensors.  Everything size-related
(widths, levels, depths, text encoder sizes) is read from the shapes; only conventions
that shapes cannot reveal (head counts, sample sizes, VAE scaling) come from the family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .family import ModelFamily, Recognition, recognise

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."

# (prefix, kind, diffusers component) candidates for text encoders, most specific first.
_TEXT_PREFIXES: list[tuple[str, str, str]] = [
    ("cond_stage_model.transformer.text_model.", "clip_l", "text_encoder"),
    ("cond_stage_model.transformer.", "clip_l", "text_encoder"),
    ("cond_stage_model.model.", "open_clip", "text_encoder"),
    ("conditioner.embedders.0.transformer.text_model.", "clip_l", "text_encoder"),
    ("conditioner.embedders.0.model.", "open_clip", "text_encoder_2"),
    ("conditioner.embedders.1.model.", "open_clip", "text_encoder_2"),
]

# Keys of a text config that are ours and not CLIPTextConfig arguments.
_TEXT_EXTRA_KEYS = ("kind", "prefix", "component", "hidden_state_index", "tower")

Shape = tuple[int, ...]


@dataclass
class CheckpointInfo:
    """What a checkpoint is and how to build its diffusers / transformers models."""

    family: ModelFamily  # the variant: prediction and inpainting included

    @property
    def inpaint(self) -> bool:
        return self.family.inpaint

    @property
    def prediction(self) -> str:
        return self.family.prediction

    unet_config: dict[str, Any]
    vae_config: dict[str, Any] | None
    text_configs: list[dict[str, Any]] = field(default_factory=list)
    prefixes: dict[str, str] = field(default_factory=dict)


def clip_config_kwargs(text_config: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of a detected text config that ``transformers.CLIPTextConfig`` accepts."""
    return {k: v for k, v in text_config.items() if k not in _TEXT_EXTRA_KEYS}


def _sub(shapes: Mapping[str, Shape], prefix: str) -> dict[str, Shape]:
    n = len(prefix)
    return {k[n:]: tuple(v) for k, v in shapes.items() if k.startswith(prefix)}


def _indices(keys: Sequence[str] | Mapping[str, Any], pattern: str) -> list[int]:
    """Sorted distinct integers captured by ``pattern`` (one group) at the start of keys."""
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in keys if (m := rx.match(k))})


def _need(d: Mapping[str, Shape], key: str, what: str) -> Shape:
    if key not in d:
        raise ValueError(
            f"{what}: tensor {key!r} is missing; the checkpoint is incomplete or not in the original single-file layout"
        )
    return d[key]


def _groups(widths: Sequence[int]) -> int:
    """GroupNorm groups: 32 as released, or the smallest width for tiny models."""
    smallest = min(widths)
    if all(w % 32 == 0 for w in widths):
        return 32
    if smallest < 32 and all(w % smallest == 0 for w in widths):
        return smallest
    raise ValueError(f"cannot choose a GroupNorm group count for widths {tuple(widths)}")


# ----------------------------------------------------------------------------- UNet


def _unet_structure(u: Mapping[str, Shape]) -> dict[str, Any]:
    """Read levels, widths, depths and attention placement from original UNet names."""
    conv_in = _need(u, "input_blocks.0.0.weight", "UNet")
    levels: list[dict[str, Any]] = [{"res": 0, "attn": [], "width": None}]
    blocks = _indices(u, r"input_blocks\.(\d+)\.")
    for idx in blocks[1:]:
        if f"input_blocks.{idx}.0.op.weight" in u:  # downsampler closes the level
            levels.append({"res": 0, "attn": [], "width": None})
            continue
        lvl = levels[-1]
        out_w = _need(u, f"input_blocks.{idx}.0.out_layers.3.weight", "UNet")[0]
        lvl["width"] = lvl["width"] or out_w
        lvl["res"] += 1
        depth = len(_indices(u, rf"input_blocks\.{idx}\.1\.transformer_blocks\.(\d+)\."))
        if depth:
            lvl["attn"].append(depth)
    if any(lvl["res"] == 0 for lvl in levels):
        raise ValueError("UNet: a resolution level has no res blocks; unsupported layout")
    for i, lvl in enumerate(levels):
        if lvl["attn"] and len(lvl["attn"]) != lvl["res"]:
            raise ValueError(f"UNet: level {i} has attention on only some res blocks; unsupported layout")
        if len(set(lvl["attn"])) > 1:
            raise ValueError(f"UNet: level {i} mixes transformer depths {lvl['attn']}; unsupported layout")
    first_attn = next((f"input_blocks.{i}.1." for i in blocks if f"input_blocks.{i}.1.proj_in.weight" in u), None)
    if first_attn is None and "middle_block.1.proj_in.weight" in u:
        first_attn = "middle_block.1."
    mid_depth = len(_indices(u, r"middle_block\.1\.transformer_blocks\.(\d+)\."))
    if "middle_block.0.in_layers.2.weight" in u and not mid_depth:
        raise ValueError("UNet: middle block without attention is not supported")
    return {
        "in_channels": conv_in[1],
        "out_channels": u["out.2.weight"][0] if "out.2.weight" in u else conv_in[1],  # a ControlNet has no out
        "widths": [lvl["width"] for lvl in levels],
        "res": [lvl["res"] for lvl in levels],
        "depths": [lvl["attn"][0] if lvl["attn"] else 0 for lvl in levels],
        "first_attn": first_attn,
        "mid_depth": mid_depth,
        "time_dim": _need(u, "time_embed.0.weight", "UNet")[0],
        "adm": u.get("label_emb.0.0.weight", (None, None))[1],
    }


def unet_config_from_shapes(u: Mapping[str, Shape], family: ModelFamily, pooled_dim: int | None) -> dict[str, Any]:
    """diffusers UNet2DConditionModel config of an SD-family UNet (the SD families' read_config)."""
    s = _unet_structure(u)
    widths, depths = s["widths"], s["depths"]
    if s["first_attn"] is None:
        raise ValueError("UNet has no cross-attention blocks; not a text-to-image Stable Diffusion UNet")
    a = s["first_attn"]
    proj = _need(u, a + "proj_in.weight", "UNet")
    cross_dim = _need(u, a + "transformer_blocks.0.attn2.to_k.weight", "UNet")[1]
    down = tuple("CrossAttnDownBlock2D" if d else "DownBlock2D" for d in depths)
    up = tuple("CrossAttnUpBlock2D" if d else "UpBlock2D" for d in reversed(depths))
    # Levels without attention get depth 1, except that diffusers takes the mid block's depth from
    # the last entry, so an attention-free last level carries the mid depth.
    tl = [d or 1 for d in depths]
    if s["mid_depth"]:
        if depths[-1] and depths[-1] != s["mid_depth"]:
            raise ValueError("UNet: mid block depth differs from the last level's; diffusers cannot express it")
        tl[-1] = s["mid_depth"]
    res = s["res"]
    cfg: dict[str, Any] = {
        "sample_size": family.unet_sample_size,
        "in_channels": s["in_channels"],
        "out_channels": s["out_channels"],
        "down_block_types": down,
        "up_block_types": up,
        "mid_block_type": "UNetMidBlock2DCrossAttn" if s["mid_depth"] else None,
        "block_out_channels": tuple(widths),
        "layers_per_block": res[0] if len(set(res)) == 1 else tuple(res),
        "transformer_layers_per_block": tl[0] if len(set(tl)) == 1 else tuple(tl),
        "cross_attention_dim": cross_dim,
        "attention_head_dim": family.heads(widths),  # diffusers' name; really a head count
        "use_linear_projection": len(proj) == 2,
        "norm_num_groups": _groups(widths),
    }
    if s["time_dim"] != 4 * widths[0]:
        cfg["time_embedding_dim"] = s["time_dim"]
    if s["adm"] is not None:
        n_ids = family.time_ids or 6  # size/crop(/target) or aesthetic-score ids
        time_dim = 256
        if pooled_dim is not None and s["adm"] > pooled_dim and (s["adm"] - pooled_dim) % n_ids == 0:
            time_dim = (s["adm"] - pooled_dim) // n_ids
        cfg.update(
            addition_embed_type="text_time",
            addition_time_embed_dim=time_dim,
            projection_class_embeddings_input_dim=s["adm"],
        )
    return cfg


# ----------------------------------------------------------------------------- VAE


def _vae_config(v: Mapping[str, Shape], family: ModelFamily | None = None) -> dict[str, Any] | None:
    """diffusers AutoencoderKL config from original-layout VAE shapes. The VAE itself has no
    latent scale: the model family it is used with applies it (LatentFormat)."""
    if not v:
        return None
    levels = _indices(v, r"encoder\.down\.(\d+)\.")
    if not levels or levels != list(range(len(levels))):
        raise ValueError("VAE: no encoder.down.N blocks; not an original-layout AutoencoderKL")
    widths = [_need(v, f"encoder.down.{i}.block.0.conv2.weight", "VAE")[0] for i in levels]
    per_level = {len(_indices(v, rf"encoder\.down\.{i}\.block\.(\d+)\.")) for i in levels}
    if len(per_level) != 1:
        raise ValueError("VAE: levels have different numbers of res blocks; unsupported")
    conv_in = _need(v, "encoder.conv_in.weight", "VAE")
    return {
        "in_channels": conv_in[1],
        "out_channels": _need(v, "decoder.conv_out.weight", "VAE")[0],
        "down_block_types": ("DownEncoderBlock2D",) * len(widths),
        "up_block_types": ("UpDecoderBlock2D",) * len(widths),
        "block_out_channels": tuple(widths),
        "layers_per_block": per_level.pop(),
        "latent_channels": _need(v, "decoder.conv_in.weight", "VAE")[1],
        "norm_num_groups": _groups(widths),
        "sample_size": family.vae_sample_size if family is not None else 512,
        "use_quant_conv": "quant_conv.weight" in v,
        "use_post_quant_conv": "post_quant_conv.weight" in v,
        "mid_block_add_attention": "encoder.mid.attn_1.q.weight" in v,
    }


# ----------------------------------------------------------------------------- text encoders


def _special_tokens(vocab: int) -> dict[str, int]:
    """CLIP's vocabulary ends with <|startoftext|>, <|endoftext|>; HF pools at the latter."""
    return {"bos_token_id": vocab - 2, "eos_token_id": vocab - 1}


def _clip_l_config(t: Mapping[str, Shape]) -> dict[str, Any]:
    tok = _need(t, "embeddings.token_embedding.weight", "CLIP-L")
    hidden = tok[1]
    return {
        "kind": "clip_l",
        "hidden_size": hidden,
        "intermediate_size": _need(t, "encoder.layers.0.mlp.fc1.weight", "CLIP-L")[0],
        "num_hidden_layers": len(_indices(t, r"encoder\.layers\.(\d+)\.")),
        "num_attention_heads": max(1, hidden // 64),
        "vocab_size": tok[0],
        "max_position_embeddings": _need(t, "embeddings.position_embedding.weight", "CLIP-L")[0],
        "projection_dim": hidden,
        "hidden_act": "quick_gelu",
        **_special_tokens(tok[0]),
    }


def _open_clip_config(t: Mapping[str, Shape]) -> dict[str, Any]:
    tok = _need(t, "token_embedding.weight", "OpenCLIP")
    hidden = tok[1]
    return {
        "kind": "open_clip",
        "hidden_size": hidden,
        "intermediate_size": _need(t, "transformer.resblocks.0.mlp.c_fc.weight", "OpenCLIP")[0],
        "num_hidden_layers": len(_indices(t, r"transformer\.resblocks\.(\d+)\.")),
        "num_attention_heads": max(1, hidden // 64),
        "vocab_size": tok[0],
        "max_position_embeddings": _need(t, "positional_embedding", "OpenCLIP")[0],
        "projection_dim": t.get("text_projection", (hidden, hidden))[1],
        "hidden_act": "gelu",
        **_special_tokens(tok[0]),
    }


def _find_text_encoders(shapes: Mapping[str, Shape]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    taken: set[str] = set()
    for prefix, kind, component in _TEXT_PREFIXES:
        if component in taken:
            continue
        sub = _sub(shapes, prefix)
        if not sub:
            continue
        if kind == "clip_l" and not any(k.startswith("embeddings.") for k in sub):
            continue  # e.g. "cond_stage_model.transformer." holding a "text_model." sub-tree
        cfg = _clip_l_config(sub) if kind == "clip_l" else _open_clip_config(sub)
        cfg.update(prefix=prefix, component=component)
        found.append(cfg)
        taken.add(component)
    return sorted(found, key=lambda c: c["component"])


# ----------------------------------------------------------------------------- entry point


def _family(u: Mapping[str, Shape], texts: list[dict[str, Any]]) -> ModelFamily:
    if any(k.startswith("label_emb.") for k in u) and "label_emb.0.0.weight" not in u:
        raise ValueError("UNet has a class-label embedding (e.g. the x4 upscaler); not supported")
    return recognise(
        Recognition(
            unet=u, text_prefixes=frozenset(t["prefix"] for t in texts), text_kinds=frozenset(t["kind"] for t in texts)
        )
    )


def _tower_for(family: ModelFamily, kind: str):
    """The family's tower a detected text encoder is (each family has at most one of each layout)."""
    for tower in family.text_towers:
        if tower.kind == kind:
            return tower
    raise ValueError(f"a {kind} text encoder does not belong in a {family.label} checkpoint")


def _bundled_towers(shapes: Mapping[str, Shape], family: ModelFamily) -> list[dict[str, Any]]:
    """Text towers stored in transformers' own layout under the family's prefixes (SD3/Flux
    all-in-one files: ``text_encoders.clip_l.transformer.*`` ...); built by text_towers.py."""
    return [
        {
            "kind": tower.kind,
            "prefix": tower.prefix,
            "component": tower.diffusers_folder,
            "tower": tower.name,
            "hidden_state_index": tower.layer,
        }
        for tower in family.text_towers
        if tower.kind in ("hf_clip", "t5") and any(k.startswith(tower.prefix) for k in shapes)
    ]


def detect_checkpoint(shapes: Mapping[str, Sequence[int]]) -> CheckpointInfo:
    """Identify a checkpoint's family (SD1 / SD2 / SDXL / refiner / SD3 / Flux) and derive model
    configs from shapes."""
    shapes = {k: tuple(v) for k, v in shapes.items()}
    u = _sub(shapes, UNET_PREFIX)
    if not u:
        raise ValueError(
            f"checkpoint ({len(shapes)} tensors) has no {UNET_PREFIX}* tensors: not a Stable "
            "Diffusion checkpoint (expected SD1/SD2/SDXL/SD3 in the original single-file layout; "
            "a Flux transformer alone goes in models/unet, loaded by Load Diffusion Model)"
        )
    texts = _find_text_encoders(shapes)
    base = _family(u, texts)
    in_channels = _need(u, base.input_key, "diffusion model")[1] // base.patch_channels
    prediction = None if base.prediction == "flow" else ("v" if "v_pred" in shapes else "eps")
    family = base.variant(prediction=prediction, inpaint=in_channels == base.latent_channels * 2 + 1)
    pooled = next((t["projection_dim"] for t in texts if t["kind"] == "open_clip"), None)
    unet = family.read_config(u, family, pooled)
    for t in texts:
        tower = _tower_for(family, t["kind"])
        t["tower"], t["hidden_state_index"] = tower.name, tower.layer
    texts += _bundled_towers(shapes, family)
    prefixes = {"unet": UNET_PREFIX}
    vae = _vae_config(_sub(shapes, VAE_PREFIX), family)
    if vae is not None:
        prefixes["vae"] = VAE_PREFIX
    prefixes.update({t["component"]: t["prefix"] for t in texts})
    return CheckpointInfo(
        family=family,
        unet_config=unet,
        vae_config=vae,
        text_configs=texts,
        prefixes=prefixes,
    )

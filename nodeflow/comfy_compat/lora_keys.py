"""``comfy.lora``: LoRA files as ComfyUI patch dicts.

``model_lora_keys_unet(model.model)`` / ``model_lora_keys_clip(clip.cond_stage_model)`` map the module
names LoRA files use (kohya ``lora_unet_*`` / ``lora_te*_*`` in both the released and the diffusers
naming, PEFT ``unet.*`` / ``text_encoder.*``, ``diffusion_model.*``) to ComfyUI weight names; the
candidates are NodeFlow's own LoRA loader's. ``load_lora(state_dict, key_map)`` turns the tensors
into patch values (``("lora", ...)``, ``("loha", ...)``, ``("lokr", ...)``, ``("diff", ...)``) that
``add_patches`` applies; ``calculate_weight`` applies a patch list to one tensor."""

from __future__ import annotations

import logging

import torch

from nodeflow.models.comfy_facade.keys import clip_keys, unet_keys
from nodeflow.models.comfy_facade.weights import calculate_weight
from nodeflow.models.lora import group_lora, text_candidates, unet_candidates

log = logging.getLogger(__name__)
LOKR = ("lokr_w1", "lokr_w2", "lokr_w1_a", "lokr_w1_b", "lokr_w2_a", "lokr_w2_b")

__all__ = ["calculate_weight", "load_lora", "model_lora_keys_clip", "model_lora_keys_unet"]


def _module(name: str) -> str:
    return name.rsplit(".", 1)[0] if name.endswith((".weight", ".bias")) else name


def model_lora_keys_unet(model, key_map: dict | None = None) -> dict:
    """Add LoRA module name -> ComfyUI weight name pairs for a MODEL's network (``model`` is
    ComfyUI's BaseModel, i.e. ``model.model``, or the MODEL itself)."""
    key_map = {} if key_map is None else key_map
    patcher = getattr(model, "current_patcher", model)
    for comfy_key, name in unet_keys(patcher.unet.module).items():
        if not comfy_key.endswith(".weight"):
            continue
        original = _module(comfy_key.removeprefix("diffusion_model."))
        for candidate in [*unet_candidates(_module(name), original), f"lycoris_{original.replace('.', '_')}"]:
            key_map.setdefault(candidate, comfy_key)
    return key_map


def model_lora_keys_clip(model, key_map: dict | None = None) -> dict:
    """The same for a CLIP's towers (``model`` is ``clip.cond_stage_model`` or the CLIP)."""
    key_map = {} if key_map is None else key_map
    clip = model._clip[0] if hasattr(model, "_clip") else model
    for comfy_key, (enc, name) in clip_keys(clip.encoders).items():
        tower = clip.family.tower(enc.name)
        if not comfy_key.endswith(".weight") or tower is None:
            continue
        for candidate in text_candidates(_module(name), tower):
            key_map.setdefault(candidate, comfy_key)
    return key_map


def _extra_parts(lora: dict) -> dict[str, dict[str, torch.Tensor]]:
    """Module -> parts for what NodeFlow's grouper leaves out: diffs, LoKr factors, LoRA mids."""
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in lora.items():
        for part in ("diff", "lora_mid.weight", *LOKR):
            if key.endswith("." + part):
                parts.setdefault(key[: -len(part) - 1], {})[part.removesuffix(".weight")] = value
    return parts


def load_lora(lora: dict, to_load: dict, log_missing: bool = True) -> dict:
    """ComfyUI weight name -> patch value for every LoRA module ``to_load`` maps."""
    groups, extra = group_lora(lora), _extra_parts(lora)
    patches, used = {}, set()
    for module in sorted(set(groups) | set(extra)):
        target = to_load.get(module)
        if target is None:
            continue
        parts, more = groups.get(module, {}), extra.get(module, {})
        alpha = lora.get(f"{module}.alpha")
        alpha = float(alpha) if alpha is not None else None
        if "down" in parts and "up" in parts:
            patches[target] = ("lora", (parts["up"], parts["down"], alpha, more.get("lora_mid"), None, None))
        elif "w1a" in parts:
            patches[target] = (
                "loha",
                (parts["w1a"], parts["w1b"], alpha, parts["w2a"], parts["w2b"], None, None, None),
            )
        elif any(k in more for k in LOKR):
            patches[target] = (
                "lokr",
                (*tuple(more.get(k) for k in LOKR[:2]), alpha, *tuple(more.get(k) for k in LOKR[2:]), None, None),
            )
        elif "diff" in more:
            patches[target] = ("diff", (more["diff"],))
        else:
            continue
        used.add(module)
    if log_missing:
        for module in sorted((set(groups) | set(extra)) - used):
            log.warning("lora key not loaded: %s", module)
    return patches

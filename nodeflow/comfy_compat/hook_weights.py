"""Weight hooks (comfy.hooks.WeightHook) applied to NodeFlow models: a LoRA hook becomes the same
patches LoraLoader makes, a checkpoint-as-LoRA hook moves each weight towards the other
checkpoint's. Returns clones; the models given are unchanged."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.models.lora import apply_lora
from nodeflow.models.patching import Patch, PatchedModule


def _towards(module: PatchedModule, weights: dict[str, torch.Tensor], strength: float, source: str) -> None:
    params = dict(module.module.named_parameters())
    patches = [
        Patch(key, strength, lambda w, t=target: t.to(device=w.device, dtype=torch.float32) - w.float(), source)
        for key, target in weights.items()
        if key in params and params[key].shape == target.shape
    ]
    if not patches:
        raise ValueError(f"{source}: none of its weights fit this model (another model family?)")
    module.add_patches(patches)


def apply_weight_hooks(model: Any, clip: Any, hooks: Any, source: str = "hook") -> tuple[Any, Any]:
    """(model, clip) clones with every weight hook of ``hooks`` (a comfy.hooks.HookGroup) applied at
    its current strength; either may be None."""
    from comfy.hooks import EnumHookType

    for hook in hooks.get_type(EnumHookType.Weight):
        if getattr(hook, "lora", None):
            model, clip, _ = apply_lora(
                model,
                clip,
                hook.lora,
                hook.strength_model if model is not None else 0.0,
                hook.strength_clip if clip is not None else 0.0,
                source,
            )
            continue
        if not getattr(hook, "model_as_lora", False):
            continue
        if model is not None and hook.weights and hook.strength_model != 0:
            model = model.clone()
            _towards(model.unet, hook.weights, hook.strength_model, source)
        if clip is not None and hook.weights_clip and hook.strength_clip != 0:
            clip = clip.clone()
            for enc in clip.encoders:
                if enc.name in hook.weights_clip:
                    _towards(enc.model, hook.weights_clip[enc.name], hook.strength_clip, source)
    return model, clip

"""The comfy text-encoder class instance (``comfy.sd1_clip.SD1ClipModel``, ``comfy.sdxl_clip.
SDXLClipModel``, ...) standing for a NodeFlow CLIP, for ``CLIP.cond_stage_model``: packs test its
class to tell model families apart and set clip options on it. Each tower wrapper holds the
NodeFlow encoder of the same name, so clip options (layer) reach NodeFlow's encoding."""

from __future__ import annotations

from typing import Any

import torch


def cond_stage_model_for(clip: Any) -> torch.nn.Module:
    """The wrapper for a NodeFlow ``CLIP`` (nodeflow.models.clip_model.CLIP), chosen by its towers:
    clip_l + clip_g -> SDXLClipModel, clip_g -> SDXLRefinerClipModel, one clip_l or clip_h tower ->
    SD1ClipModel (clip_name "l" / "h")."""
    from comfy.sd1_clip import SD1ClipModel
    from comfy.sdxl_clip import SDXLClipModel, SDXLRefinerClipModel

    encoders = {enc.name: enc for enc in clip.encoders}
    names = set(encoders)
    if names == {"clip_l", "clip_g"}:
        wrapper: torch.nn.Module = SDXLClipModel()
    elif names == {"clip_g"}:
        wrapper = SDXLRefinerClipModel()
    elif len(names) == 1 and names <= {"clip_l", "clip_h"}:
        wrapper = SD1ClipModel(clip_name=next(iter(names))[-1])
    else:
        raise ValueError(f"no ComfyUI text-encoder class for towers {sorted(names)}")
    for tower_name, enc in encoders.items():  # layers as the NodeFlow encoder has them (clip skip included)
        tower = getattr(wrapper, tower_name)
        tower.encoder = enc
        tower.options_default = (*_layer(enc.default_layer), tower.return_projected_pooled)
        tower.layer, tower.layer_idx = _layer(enc.layer)
    return wrapper


def _layer(index: int) -> tuple[str, int | None]:
    return ("last", None) if index == -1 else ("hidden", index)

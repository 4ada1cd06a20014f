"""comfy_extras.chainner_models.model_loading for custom-node packs: build an upscale model from a
state dict with spandrel (what NodeFlow's upscale loader uses)."""

from __future__ import annotations

import logging
from typing import Any

import torch

from nodeflow.comfy_compat import missing

log = logging.getLogger(__name__)


def load_state_dict(state_dict: dict[str, torch.Tensor]) -> Any:
    """The spandrel model descriptor (``.model``, ``.scale``...) for ``state_dict``, in eval mode.
    Deprecated in ComfyUI too: packs should use UpscaleModelLoader."""
    from spandrel import ModelLoader, UnsupportedModelError

    log.warning("comfy_extras.chainner_models is deprecated; load upscale models with UpscaleModelLoader")
    try:
        return ModelLoader().load_from_state_dict(state_dict).eval()
    except UnsupportedModelError:
        raise ValueError("load_state_dict: the weights match no upscale-model architecture spandrel knows") from None


__getattr__ = missing("comfy_extras.chainner_models.model_loading")

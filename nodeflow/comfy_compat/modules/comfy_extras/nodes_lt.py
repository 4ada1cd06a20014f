"""comfy_extras.nodes_lt for custom-node packs: LTX-Video helpers. ``get_noise_mask`` works on any
5-D video latent; the LTX nodes import but cannot run (NodeFlow has no LTX-Video model)."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import v3_execute


def get_noise_mask(latent: dict) -> torch.Tensor:
    """The latent's noise mask (a copy), or ones of shape [B, 1, frames, 1, 1]."""
    mask = latent.get("noise_mask")
    if mask is not None:
        return mask.clone()
    samples = latent["samples"]
    return torch.ones((samples.shape[0], 1, samples.shape[2], 1, 1), dtype=torch.float32, device=samples.device)


class LTXVAddGuide:
    """LTX-Video keyframe guide (positive, negative, vae, latent, image, frame_idx, strength).
    NodeFlow has no LTX-Video model, so it cannot run here."""

    RETURN_TYPES = ("CONDITIONING", "CONDITIONING", "LATENT")
    RETURN_NAMES = ("positive", "negative", "latent")
    FUNCTION = "generate"
    CATEGORY = "conditioning/video_models"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "positive": ("CONDITIONING",),
                "negative": ("CONDITIONING",),
                "vae": ("VAE",),
                "latent": ("LATENT",),
                "image": ("IMAGE",),
                "frame_idx": ("INT", {"default": 0, "min": -9999, "max": 9999}),
                "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def generate(self, *args: Any, **kwargs: Any) -> tuple:
        raise NotImplementedError("LTXVAddGuide: NodeFlow has no LTX-Video model family; this node cannot run here")

    execute = v3_execute("generate")


__getattr__ = missing("comfy_extras.nodes_lt")

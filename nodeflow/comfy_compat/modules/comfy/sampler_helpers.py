"""ComfyUI's ``comfy.sampler_helpers`` for custom-node packs, on NodeFlow."""

from __future__ import annotations

import torch

from nodeflow.comfy_compat import missing
from nodeflow.sampling.run import noise_mask_for


def prepare_mask(noise_mask: torch.Tensor, shape, device) -> torch.Tensor:
    """A noise mask resized (bilinear) to a latent shape, repeated over channels and batch, on ``device``."""
    return noise_mask_for(noise_mask, torch.empty(tuple(shape), device="meta")).to(device)


def convert_cond(cond: list) -> list[dict]:
    """CONDITIONING -> ComfyUI's per-cond dicts ({"cross_attn": tensor, **options}); NodeFlow's
    samplers take either form."""
    return [{"cross_attn": c[0], **(c[1] if len(c) > 1 else {})} for c in cond]


def get_models_from_cond(cond, model_type) -> list:
    return []


def get_additional_models(conds, dtype) -> tuple[list, int]:
    return [], 0


def prepare_sampling(model, noise_shape, conds, model_options=None):
    """(ComfyUI's BaseModel, conds, models to load): NodeFlow places weights itself when they run."""
    return model.model, conds, []


def cleanup_models(conds, models) -> None:
    """Nothing to release: NodeFlow's model manager owns placement."""


def cleanup_additional_models(models) -> None:
    """Nothing to release: NodeFlow's model manager owns placement."""


__getattr__ = missing("comfy.sampler_helpers")

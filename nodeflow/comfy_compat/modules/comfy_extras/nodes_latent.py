"""comfy_extras.nodes_latent for custom-node packs: latent batch and arithmetic nodes (V1 method
``batch`` / ``op`` and V3 ``execute``)."""

from __future__ import annotations

import torch

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import v3_execute
from nodeflow.nodes.latent_nodes import resize_latent


def reshape_latent_to(target_shape: tuple, latent: torch.Tensor, repeat_batch: bool = True) -> torch.Tensor:
    """``latent`` resized (bilinear, centre crop) to ``target_shape``'s spatial size and, with
    ``repeat_batch``, its batch repeated or cut to the target batch."""
    if latent.shape[-2:] != tuple(target_shape[-2:]):
        latent = resize_latent(latent, target_shape[-1], target_shape[-2], "bilinear", "center")
    if repeat_batch and latent.shape[0] != target_shape[0]:
        latent = latent.repeat(-(-target_shape[0] // latent.shape[0]), *([1] * (latent.ndim - 1)))[: target_shape[0]]
    return latent


class _LatentNode:
    RETURN_TYPES = ("LATENT",)
    CATEGORY = "latent/advanced"


class LatentBatch(_LatentNode):
    """samples2 appended to samples1's batch (resized to its size); batch indices concatenated."""

    FUNCTION = "batch"
    CATEGORY = "latent/batch"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"samples1": ("LATENT",), "samples2": ("LATENT",)}}

    def batch(self, samples1: dict, samples2: dict) -> tuple:
        s1, s2 = samples1["samples"], samples2["samples"]
        s2 = reshape_latent_to(s1.shape, s2.to(s1), repeat_batch=False)
        out = dict(samples1)
        out["samples"] = torch.cat([s1, s2], dim=0)
        out["batch_index"] = list(samples1.get("batch_index", range(s1.shape[0]))) + list(
            samples2.get("batch_index", range(s2.shape[0]))
        )
        return (out,)

    execute = v3_execute("batch")


class LatentAdd(_LatentNode):
    """samples1 + samples2 (samples2 resized and batch-matched)."""

    FUNCTION = "op"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"samples1": ("LATENT",), "samples2": ("LATENT",)}}

    def op(self, samples1: dict, samples2: dict) -> tuple:
        s1 = samples1["samples"]
        out = dict(samples1)
        out["samples"] = s1 + reshape_latent_to(s1.shape, samples2["samples"].to(s1))
        return (out,)

    execute = v3_execute("op")


class LatentSubtract(LatentAdd):
    """samples1 - samples2 (samples2 resized and batch-matched)."""

    def op(self, samples1: dict, samples2: dict) -> tuple:
        s1 = samples1["samples"]
        out = dict(samples1)
        out["samples"] = s1 - reshape_latent_to(s1.shape, samples2["samples"].to(s1))
        return (out,)


class LatentMultiply(_LatentNode):
    """samples x multiplier."""

    FUNCTION = "op"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "samples": ("LATENT",),
                "multiplier": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01}),
            }
        }

    def op(self, samples: dict, multiplier: float) -> tuple:
        out = dict(samples)
        out["samples"] = samples["samples"] * multiplier
        return (out,)

    execute = v3_execute("op")


class LatentInterpolate(_LatentNode):
    """Per-pixel interpolation of channel vectors: directions and lengths interpolated apart
    (ratio 1 = samples1)."""

    FUNCTION = "op"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "samples1": ("LATENT",),
                "samples2": ("LATENT",),
                "ratio": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            }
        }

    def op(self, samples1: dict, samples2: dict, ratio: float) -> tuple:
        s1 = samples1["samples"]
        s2 = reshape_latent_to(s1.shape, samples2["samples"].to(s1))
        n1, n2 = s1.norm(dim=1, keepdim=True), s2.norm(dim=1, keepdim=True)
        u1, u2 = torch.nan_to_num(s1 / n1), torch.nan_to_num(s2 / n2)
        direction = u1 * ratio + u2 * (1.0 - ratio)
        direction = torch.nan_to_num(direction / direction.norm(dim=1, keepdim=True))
        out = dict(samples1)
        out["samples"] = direction * (n1 * ratio + n2 * (1.0 - ratio))
        return (out,)

    execute = v3_execute("op")


class LatentBatchSeedBehavior(_LatentNode):
    """'fixed': every item gets the noise of the first item's index; 'random': the indices go."""

    FUNCTION = "op"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"samples": ("LATENT",), "seed_behavior": (["random", "fixed"], {"default": "fixed"})}}

    def op(self, samples: dict, seed_behavior: str) -> tuple:
        out = dict(samples)
        if seed_behavior == "random":
            out.pop("batch_index", None)
        elif seed_behavior == "fixed":
            first = samples.get("batch_index", [0])[0]
            out["batch_index"] = [first] * samples["samples"].shape[0]
        else:
            raise ValueError(f"seed_behavior: {seed_behavior!r} is not 'random' or 'fixed'")
        return (out,)

    execute = v3_execute("op")


__getattr__ = missing("comfy_extras.nodes_latent")

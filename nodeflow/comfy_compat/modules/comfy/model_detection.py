"""ComfyUI's ``comfy.model_detection`` for custom-node packs, on NodeFlow (whose own detection of
families and hyperparameters is nodeflow/models/detect.py)."""

from __future__ import annotations

from nodeflow.comfy_compat import missing

PREFIXES = ("model.diffusion_model.", "model.model.", "net.", "model.")


def unet_prefix_from_state_dict(state_dict: dict) -> str:
    """The key prefix the diffusion model's weights sit under in a checkpoint ("model." when none fits)."""
    counts = {prefix: sum(1 for k in state_dict if k.startswith(prefix)) for prefix in PREFIXES}
    best = max(PREFIXES, key=lambda p: (counts[p] > 0, counts[p] if p != "model." else 0))
    return best if counts[best] else "model."


__getattr__ = missing("comfy.model_detection")

"""Upscale model files in the layouts people download (.safetensors, .pth, wrapped or prefixed), and
the untiled output of a network to compare against."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file


def write_model(env, name: str, state: dict, wrap: str | None = None, prefix: str = "") -> Path:
    """Save ``state`` as models/upscale_models/<name> (.safetensors or a torch.save .pth)."""
    path = env.models_dir / "upscale_models" / name
    state = {prefix + k: v.detach().clone().contiguous() for k, v in state.items()}
    if name.endswith(".safetensors"):
        save_file(state, str(path))
    else:
        torch.save({wrap: state} if wrap else state, str(path))
    return path


def reference(net: torch.nn.Module, image: torch.Tensor) -> torch.Tensor:
    """Untiled output of ``net`` for an IMAGE [B,H,W,C], as IMAGE."""
    with torch.no_grad():
        return net(image.movedim(-1, 1)).clamp(0, 1).movedim(1, -1)

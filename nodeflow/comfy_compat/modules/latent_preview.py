"""ComfyUI's ``latent_preview`` for custom-node packs: the sampler callback that reports progress
and live previews of the running node, drawn by NodeFlow's previewer (``nodeflow.models.preview``).

A MODEL may be NodeFlow's own model object or a wrapper around it (``.model``); the preview needs
``process_latent_out`` and a latent format from it, and is left out when there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from comfy.utils import ProgressBar
from PIL import Image

from nodeflow.comfy_compat import missing
from nodeflow.engine.context import current_context

MAX_PREVIEW_RESOLUTION = 512


def _nodeflow_model(model: Any) -> Any:
    for candidate in (model, getattr(model, "model", None), getattr(model, "nodeflow_model", None)):
        if candidate is not None and hasattr(candidate, "process_latent_out") and hasattr(candidate, "latent_format"):
            return candidate
    return None


def preview_image(model: Any, x0: torch.Tensor) -> Image.Image | None:
    """A picture of the first item of ``x0`` (the model's latent space), or None."""
    found = _nodeflow_model(model)
    if found is None:
        return None
    from nodeflow.models.preview import latent_preview

    try:
        return latent_preview(found, found.process_latent_out(x0.detach()))
    except Exception:  # a preview must never break sampling
        return None


def prepare_callback(model: Any, steps: int, x0_output_dict: dict | None = None) -> Callable[..., None]:
    """``callback(step, x0, x, total_steps)`` for samplers: progress of the running node with a
    preview of ``x0``; ``x0_output_dict["x0"]`` keeps the last ``x0`` when given."""
    bar = ProgressBar(steps)

    def callback(step: int, x0: torch.Tensor, x: torch.Tensor, total_steps: int) -> None:
        if x0_output_dict is not None:
            x0_output_dict["x0"] = x0
        ctx = current_context()
        wanted = x0 is not None and (ctx is None or ctx.wants_previews())  # nobody watching: no picture made
        image = preview_image(model, x0) if wanted else None
        preview = ("JPEG", image, MAX_PREVIEW_RESOLUTION) if image is not None else None
        bar.update_absolute(step + 1, total_steps, preview)

    return callback


class LatentRGBPreviewer:
    """Previews through a latent format's linear latent -> RGB factors."""

    def __init__(self, factors: list, bias: list | None = None) -> None:
        self.factors = torch.tensor(factors, dtype=torch.float32)
        self.bias = torch.tensor(bias, dtype=torch.float32) if bias is not None else None

    def decode_latent_to_preview(self, x0: torch.Tensor) -> Image.Image:
        channels = x0.shape[1]
        rgb = torch.einsum("chw,cr->hwr", x0[0].float().cpu(), self.factors[:channels])
        # ComfyUI keeps the bias apart; NodeFlow's tables carry it as a last row
        bias = (
            self.bias
            if self.bias is not None
            else (self.factors[channels] if self.factors.shape[0] > channels else None)
        )
        if bias is not None:
            rgb = rgb + bias
        pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
        return Image.fromarray(pixels)

    def decode_latent_to_preview_image(self, preview_format: str, x0: torch.Tensor) -> tuple:
        return preview_format, self.decode_latent_to_preview(x0), MAX_PREVIEW_RESOLUTION


def get_previewer(device: Any, latent_format: Any) -> LatentRGBPreviewer | None:
    """A previewer for ``latent_format`` (ComfyUI's ``latent_rgb_factors`` or NodeFlow's
    ``rgb_factors``), or None when the format has no RGB factors."""
    factors = getattr(latent_format, "latent_rgb_factors", None) or getattr(latent_format, "rgb_factors", None)
    if not factors:
        return None
    return LatentRGBPreviewer(factors, getattr(latent_format, "latent_rgb_factors_bias", None))


__getattr__ = missing("latent_preview")

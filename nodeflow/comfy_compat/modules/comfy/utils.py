"""ComfyUI's ``comfy.utils`` for custom-node packs: progress bars that reach the editor, safe
state-dict files, resizing and tiling, dotted attribute paths.

``ProgressBar.update*`` reports through the running node's context (``progress`` events, preview
frames) and is an interrupt point, as in ComfyUI. Model files load only as safetensors or through
``torch.load(weights_only=True)`` (``nodeflow.models.checkpoint_file``): never unsafe pickle.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.tiling import tile_count, tiled_apply
from nodeflow.engine.context import Interrupted, current_context
from nodeflow.imaging.convert import crop_to_aspect

from .model_management import InterruptProcessingException

PROGRESS_BAR_ENABLED = True
_PROGRESS_HOOK: Callable[..., Any] | None = None


def set_progress_bar_enabled(enabled: bool) -> None:
    global PROGRESS_BAR_ENABLED
    PROGRESS_BAR_ENABLED = enabled


def set_progress_bar_global_hook(function: Callable[..., Any] | None) -> None:
    """Replace where progress goes: ``function(value, total, preview, prompt_id=None, node_id=None)``.
    None restores the default (the running node's progress events)."""
    global _PROGRESS_HOOK
    _PROGRESS_HOOK = function


def get_progress_bar_global_hook() -> Callable[..., Any] | None:
    return _PROGRESS_HOOK


class ProgressBar:
    """Progress of the running node: ``update(n)`` adds, ``update_absolute(value, total, preview)``
    sets. ``preview`` is ComfyUI's (format, PIL image, max size). The node is the one running when
    the bar was made, so worker threads of the node may update it too."""

    def __init__(self, total: int, node_id: str | None = None) -> None:
        self.total = total
        self.current = 0
        self.node_id = node_id
        self.hook = _PROGRESS_HOOK
        self._ctx = current_context()

    def update_absolute(self, value: float, total: float | None = None, preview: Any = None) -> None:
        if total is not None:
            self.total = total
        self.current = min(value, self.total)
        if self.hook is not None:
            self.hook(self.current, self.total, preview, node_id=self.node_id)
            return
        ctx = self._ctx or current_context()
        if ctx is None:
            return
        try:
            ctx.progress(
                self.current, self.total, preview=(lambda: _preview_image(preview)) if preview is not None else None
            )
        except InterruptProcessingException:
            raise
        except Interrupted as exc:
            raise InterruptProcessingException(str(exc)) from None

    def update(self, value: float) -> None:
        self.update_absolute(self.current + value)


def _preview_image(preview: Any) -> Image.Image | None:
    if preview is None:
        return None
    image = preview[1] if isinstance(preview, (tuple, list)) else preview
    if not isinstance(image, Image.Image):
        return None
    max_size = preview[2] if isinstance(preview, (tuple, list)) and len(preview) > 2 else None
    if max_size:
        image = image.copy()
        image.thumbnail((max_size, max_size))
    return image


def load_torch_file(ckpt: str, safe_load: bool = False, device: Any = None, return_metadata: bool = False) -> Any:
    """A state dict from a .safetensors/.sft file or a plain-tensor torch file (weights_only);
    ``return_metadata`` also returns the safetensors metadata (None for other files)."""
    from nodeflow.models.checkpoint_file import file_metadata, load_state_dict

    path = Path(ckpt)
    state_dict = load_state_dict(path, device=str(device) if device is not None else "cpu")
    if not return_metadata:
        return state_dict
    return state_dict, (file_metadata(path) or None)


def save_torch_file(sd: dict, ckpt: str, metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in sd.items()}, str(ckpt), metadata=metadata)


def calculate_parameters(sd: dict, prefix: str = "") -> int:
    return sum(v.nelement() for k, v in sd.items() if k.startswith(prefix))


def state_dict_prefix_replace(state_dict: dict, replace_prefix: dict, filter_keys: bool = False) -> dict:
    """Rename keys by prefix ({old: new}); in place unless ``filter_keys`` (then a new dict of the
    renamed keys only)."""
    out = {} if filter_keys else state_dict
    for old, new in replace_prefix.items():
        for key in [k for k in state_dict if k.startswith(old)]:
            value = state_dict[key] if filter_keys else state_dict.pop(key)
            out[new + key[len(old) :]] = value
    return out


def state_dict_key_replace(state_dict: dict, keys_to_replace: dict) -> dict:
    for old, new in keys_to_replace.items():
        if old in state_dict:
            state_dict[new] = state_dict.pop(old)
    return state_dict


def repeat_to_batch_size(tensor: torch.Tensor, batch_size: int, dim: int = 0) -> torch.Tensor:
    size = tensor.shape[dim]
    if size > batch_size:
        return tensor.narrow(dim, 0, batch_size)
    if size < batch_size:
        repeats = [1] * tensor.dim()
        repeats[dim] = math.ceil(batch_size / size)
        return tensor.repeat(*repeats).narrow(dim, 0, batch_size)
    return tensor


def get_attr(obj: Any, attr: str) -> Any:
    return functools.reduce(getattr, attr.split("."), obj)


def set_attr(obj: Any, attr: str, value: Any) -> Any:
    """Set ``obj.a.b.c = value``; returns the previous value."""
    *parents, last = attr.split(".")
    owner = functools.reduce(getattr, parents, obj)
    previous = getattr(owner, last)
    setattr(owner, last, value)
    return previous


def set_attr_param(obj: Any, attr: str, value: torch.Tensor) -> Any:
    return set_attr(obj, attr, torch.nn.Parameter(value, requires_grad=False))


def copy_to_param(obj: Any, attr: str, value: torch.Tensor) -> None:
    with torch.no_grad():
        get_attr(obj, attr).data.copy_(value)


def lanczos(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Lanczos resize of [B,C,H,W] 0..1 through PIL, per channel in float (clamped to 0..1)."""
    array = samples.detach().float().cpu().numpy()
    resized = [
        [
            np.asarray(Image.fromarray(np.ascontiguousarray(channel)).resize((width, height), Image.Resampling.LANCZOS))
            for channel in item
        ]
        for item in array
    ]
    out = torch.from_numpy(np.asarray(resized, dtype=np.float32)).clamp(0, 1)
    return out.to(samples.device, samples.dtype)


def bislerp(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    from nodeflow.nodes.latent_nodes import resize_latent

    return resize_latent(samples, width, height, "bislerp").to(samples.dtype)


def common_upscale(samples: torch.Tensor, width: int, height: int, upscale_method: str, crop: str) -> torch.Tensor:
    """Resize channels-first [B,C,H,W] (or video [B,C,T,H,W]) to height x width; ``crop='center'``
    first crops to the target aspect ratio."""
    if samples.dim() == 5:
        b, c, t = samples.shape[:3]
        flat = samples.movedim(2, 1).reshape(b * t, c, *samples.shape[3:])
        out = common_upscale(flat, width, height, upscale_method, crop)
        return out.reshape(b, t, c, height, width).movedim(1, 2)
    if crop == "center":
        samples = crop_to_aspect(samples, width, height)
    if upscale_method == "lanczos":
        return lanczos(samples, width, height)
    if upscale_method == "bislerp":
        return bislerp(samples, width, height)
    return F.interpolate(samples, size=(height, width), mode=upscale_method)


def get_tiled_scale_steps(width: int, height: int, tile_x: int, tile_y: int, overlap: int) -> int:
    return tile_count(width, height, tile_x, tile_y, overlap)


def tiled_scale(
    samples: torch.Tensor,
    function: Callable[[torch.Tensor], torch.Tensor],
    tile_x: int = 64,
    tile_y: int = 64,
    overlap: int = 8,
    upscale_amount: float = 4,
    out_channels: int = 3,
    output_device: Any = "cpu",
    pbar: ProgressBar | None = None,
) -> torch.Tensor:
    """``function`` over overlapping tiles of [B,C,H,W], blended into an ``upscale_amount`` times
    larger result; ``pbar.update(1)`` after every tile."""
    return tiled_apply(
        samples,
        function,
        tile_x,
        tile_y,
        overlap,
        upscale_amount,
        out_channels,
        output_device,
        on_tile=(lambda: pbar.update(1)) if pbar is not None else None,
    )


__getattr__ = missing("comfy.utils")

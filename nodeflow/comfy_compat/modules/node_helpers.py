"""ComfyUI's ``node_helpers`` for custom-node packs: conditioning options, tolerant PIL calls,
alpha matching, hashing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import torch
from PIL import ImageFile, UnidentifiedImageError

from nodeflow.comfy_compat import missing


def conditioning_set_values(conditioning: list, values: dict | None = None, append: bool = False) -> list:
    """A new CONDITIONING whose every entry's options have ``values`` set (with ``append``, added
    to the old value); tensors are shared, option dicts copied."""
    values = values or {}
    result = []
    for tensor, options in conditioning:
        options = dict(options)
        for key, value in values.items():
            if append and options.get(key) is not None:
                options[key] = options[key] + value
            else:
                options[key] = value
        result.append([tensor, options])
    return result


def pillow(fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn(arg)`` (Image.open, ImageOps.exif_transpose ...), retried once with truncated images
    allowed when PIL refuses an odd or truncated file."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        return fn(arg)
    except (OSError, UnidentifiedImageError, ValueError):
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            return fn(arg)
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def image_alpha_fix(destination: torch.Tensor, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Make two IMAGEs agree on channels: drop the source's alpha, or give the destination an
    opaque one."""
    if destination.shape[-1] < source.shape[-1]:
        source = source[..., : destination.shape[-1]]
    elif destination.shape[-1] > source.shape[-1]:
        pad = destination.shape[-1] - source.shape[-1]
        source = torch.nn.functional.pad(source, (0, pad), value=1.0)
    return destination, source


def hasher() -> Callable[..., Any]:
    """The hash constructor named by ``args.default_hashing_function`` (sha256 by default)."""
    from comfy.cli_args import args

    return getattr(hashlib, str(args.default_hashing_function), hashlib.sha256)


def string_to_torch_dtype(string: str) -> torch.dtype | None:
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}.get(string)


def is_link(obj: Any) -> bool:
    """True for an API-prompt link: ``[node_id (str), output index (int)]``."""
    return (
        isinstance(obj, list)
        and len(obj) == 2
        and isinstance(obj[0], str)
        and isinstance(obj[1], int)
        and not isinstance(obj[1], bool)
    )


__getattr__ = missing("node_helpers")

"""Textual inversion files (``embedding:name`` in a prompt) from models/embeddings.

Forms read: ``.safetensors`` with ``emb_params`` (SD1/SD2) or ``clip_l``/``clip_g`` (SDXL);
``.pt``/``.bin`` (only through ``torch.load(weights_only=True)``) holding A1111's
``string_to_param`` dict, ``emb_params``, or diffusers' ``{token: vector}``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import torch

EXTENSIONS = (".safetensors", ".pt", ".bin")


@lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> dict[str, torch.Tensor]:
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as exc:
            raise ValueError(f"embedding file {Path(path).name} is not a readable .safetensors file ({exc})") from exc
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"embedding file {Path(path).name} cannot be loaded safely (weights only): {exc}. "
            "Convert it to .safetensors."
        ) from exc
    if isinstance(data, dict) and "string_to_param" in data:
        data = dict(data["string_to_param"])
    if isinstance(data, torch.Tensor):
        data = {"emb_params": data}
    if not isinstance(data, dict):
        raise ValueError(f"embedding file {Path(path).name} holds no tensors")
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}


def load_embedding(name: str, find: Callable[[str], Path | None] | None, width: int, tower: str) -> list[torch.Tensor]:
    """The vectors of embedding ``name`` for a text tower of ``width`` (named ``tower``)."""
    path = find(name) if find is not None else None
    if path is None:
        raise ValueError(f"embedding {name!r} not found: put {name}.safetensors (or .pt) in models/embeddings")
    tensors = _read(str(path), path.stat().st_mtime)
    if tower in tensors:
        chosen = tensors[tower]
    else:
        fitting = [t for t in tensors.values() if t.shape[-1] == width]
        if not fitting:
            dims = sorted({int(t.shape[-1]) for t in tensors.values()})
            raise ValueError(
                f"embedding {name!r} has vectors of width {dims}; this model's {tower} "
                f"text encoder needs {width} (an embedding for another model family?)"
            )
        chosen = fitting[0]
    chosen = chosen.float().reshape(-1, width)
    return list(chosen)


def embedding_finder(directories: list[Path]) -> Callable[[str], Path | None]:
    """Look up ``name`` (with or without extension) in ``directories`` (a checked name; symlinked
    embedding files and folders are followed, like every model file)."""
    from nodeflow.folders import model_join

    def find(name: str) -> Path | None:
        candidates = [name] if name.lower().endswith(EXTENSIONS) else [name + ext for ext in EXTENSIONS]
        for directory in directories:
            for candidate in candidates:
                try:
                    path = model_join(directory, candidate)
                except ValueError:
                    return None
                if path.is_file():
                    return path
        return None

    return find

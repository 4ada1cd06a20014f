"""Full-size random checkpoints in the released layouts, built from the reference key lists
(tests/data/*_checkpoint_keys.json.gz: every tensor name, shape and dtype of SD1.5 / SDXL)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parents[1] / "data"
DTYPES = {"F16": torch.float16, "F32": torch.float32, "I64": torch.int64}


def reference_keys(family: str, manifest: str = "{}_checkpoint_keys.json.gz") -> dict:
    return json.loads(gzip.decompress((DATA / manifest.format(family)).read_bytes()))


def random_checkpoint(family: str, path: Path, seed: int = 0) -> dict:
    """Write a random checkpoint with exactly the released names/shapes/dtypes; returns the key list."""
    return random_file(reference_keys(family), path, seed)


def random_controlnet(path: Path, seed: int = 0, dtype: str | None = None) -> dict:
    """A full-size random SD1.5 ControlNet (control_v11p_sd15_canny's names and shapes); ``dtype``
    ("F16": the released fp16 copies) overrides the manifest's F32 for float tensors."""
    return random_file(reference_keys("controlnet_sd15", "{}_keys.json.gz"), path, seed, dtype)


def random_file(ref: dict, path: Path, seed: int = 0, float_dtype: str | None = None) -> dict:
    """Random tensors with the manifest's names, shapes and dtypes (norm scales at 1) as .safetensors;
    ``float_dtype`` replaces the manifest's dtype of every float tensor."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, (shape, dtype) in ref["keys"].items():
        if float_dtype is not None and dtype != "I64":
            dtype = float_dtype
        if dtype == "I64":
            tensors[name] = torch.arange(shape[-1], dtype=torch.int64).expand(*shape).contiguous()
        elif (
            name.endswith(
                (
                    "norm.weight",
                    "norm1.weight",
                    "norm2.weight",
                    "norm3.weight",
                    "ln_1.weight",
                    "ln_2.weight",
                    "ln_final.weight",
                    "norm_out.weight",
                    "in_layers.0.weight",
                    "out_layers.0.weight",
                    "layer_norm1.weight",
                    "layer_norm2.weight",
                    "final_layer_norm.weight",
                    ".0.weight",
                )
            )
            and len(shape) == 1
        ):
            tensors[name] = torch.ones(shape, dtype=DTYPES[dtype])  # norms start at identity scale
        else:
            tensors[name] = (torch.randn(shape, generator=g) * 0.02).to(DTYPES[dtype])
    save_file(tensors, str(path))
    return ref

"""Export trained demo weights (torch .pt training outputs) to committed safetensors files in
diffusers layout, with their configs in the metadata. A later step packs them into the single-file
SD1 layout through the checkpoint saver.

    python -m nodeflow.demo.export vae demo_build/vae.pt nodeflow/demo/weights/vae_diffusers.safetensors
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import save_file


def export(kind: str, source: Path, out: Path, dtype: torch.dtype = torch.float16) -> dict:
    saved = torch.load(source, weights_only=True)
    tensors: dict[str, torch.Tensor] = {}
    metadata = {"nodeflow.kind": kind, "nodeflow.report": json.dumps(saved.get("report", {}))}
    if kind == "vae":
        tensors = {f"vae.{k}": v for k, v in saved["state_dict"].items()}
        metadata["nodeflow.vae_config"] = json.dumps(saved["config"])
    elif kind == "t2i":
        tensors = {**{f"text.{k}": v for k, v in saved["text"].items()}, **{f"unet.{k}": v for k, v in saved["unet"].items()}}
        metadata["nodeflow.text_config"] = json.dumps(saved["text_config"])
        metadata["nodeflow.unet_config"] = json.dumps(saved["unet_config"])
    else:
        raise ValueError(f"unknown kind {kind!r}: use vae or t2i")
    tensors = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=metadata)
    return {"tensors": len(tensors), "bytes": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["vae", "t2i"])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(json.dumps(export(args.kind, args.source, args.out)))


if __name__ == "__main__":
    main()

"""Pack the trained demo text-to-image model (text encoder + UNet from train_t2i) and the demo VAE
into one single-file checkpoint in the released SD1 layout, written through NodeFlow's own
checkpoint saver, so CheckpointLoaderSimple loads it like any SD1.x file.

    python -m nodeflow.demo.pack demo_build/t2i.pt nodeflow/demo/weights/checkpoints/nodeflow-demo-sd1.safetensors
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

WEIGHTS = Path(__file__).resolve().parent / "weights"


def pack(t2i: Path, out: Path, vae_path: Path = WEIGHTS / "vae_diffusers.safetensors",
         dtype: torch.dtype = torch.float16) -> dict:
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from nodeflow.models.clip_model import TextEncoder
    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.loader import make_clip
    from nodeflow.models.patching import PatchedModule
    from nodeflow.models.saver import save_checkpoint
    from nodeflow.models.vae_model import VAE

    from .train_t2i import load_trained_vae

    saved = torch.load(t2i, weights_only=True)
    text = CLIPTextModel(CLIPTextConfig(**saved["text_config"]))
    text.load_state_dict(saved["text"])
    unet = UNet2DConditionModel(**saved["unet_config"])
    unet.load_state_dict(saved["unet"])
    model = DiffusionModel(PatchedModule(unet.eval()), "sd1")
    clip = make_clip([TextEncoder(PatchedModule(text.eval()), "clip_l")], "sd1", None)
    vae = VAE(load_trained_vae(vae_path))
    report = dict(saved.get("report", {}))
    metadata = {"nodeflow.demo": "NodeFlow demo pack text-to-image model (shapes data set), trained by "
                                 "nodeflow/demo/train_t2i.py", "nodeflow.report": report}
    save_checkpoint(out, model, clip, vae, metadata, dtype=dtype)
    return {"bytes": out.stat().st_size, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("t2i", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(json.dumps(pack(args.t2i, args.out)))


if __name__ == "__main__":
    main()

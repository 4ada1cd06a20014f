"""Pack trained demo weights into the files NodeFlow ships, written through its own checkpoint
saver in the released layouts:

- the text-to-image model (text encoder + UNet from train_t2i) and the demo VAE as one single-file
  SD1 checkpoint, which CheckpointLoaderSimple loads like any SD1.x file;
- the 9-channel inpainting UNet (from train_inpaint) as a UNet-only file for UNETLoader.

    python -m nodeflow.demo.pack checkpoint demo_build/t2i.pt nodeflow/demo/weights/checkpoints/nodeflow-demo-sd1.safetensors --vae demo_build/vae.pt
    python -m nodeflow.demo.pack unet demo_build/inpaint.pt nodeflow/demo/weights/unet/nodeflow-demo-inpaint-unet.safetensors
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from .evaluate import CHECKPOINT
from .plan import pack_path

INPAINT_UNET = pack_path("inpaint_unet")


def _trained(path: Path):
    """(DiffusionModel, CLIP, report) from a train_t2i / train_inpaint snapshot."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from nodeflow.models.clip_model import TextEncoder
    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.family import family_named
    from nodeflow.models.loader import make_clip
    from nodeflow.models.patching import PatchedModule

    saved = torch.load(path, weights_only=True)
    text = CLIPTextModel(CLIPTextConfig(**saved["text_config"]))
    text.load_state_dict(saved["text"])
    unet = UNet2DConditionModel(**saved["unet_config"])
    unet.load_state_dict(saved["unet"])
    family = family_named("sd1").variant(inpaint=unet.config.in_channels == 9)
    model = DiffusionModel(PatchedModule(unet.eval()), family)
    clip = make_clip([TextEncoder(PatchedModule(text.eval()), "clip_l")], "sd1", None)
    return model, clip, dict(saved.get("report", {}))


def pack(t2i: Path, out: Path = CHECKPOINT, vae_path: Path = CHECKPOINT, dtype: torch.dtype = torch.float16) -> dict:
    """The single-file SD1 checkpoint; the VAE comes from ``vae_path`` (train_vae's .pt or a packed
    checkpoint, which may be ``out`` itself: it is read before ``out`` is replaced)."""
    from nodeflow.models.saver import save_checkpoint
    from nodeflow.models.vae_model import VAE

    from .train_t2i import load_trained_vae

    vae = VAE(load_trained_vae(vae_path))
    model, clip, report = _trained(t2i)
    metadata = {
        "nodeflow.demo": "NodeFlow demo pack text-to-image model (shapes data set), trained by "
        "nodeflow/demo/train_t2i.py",
        "nodeflow.report": report,
    }
    save_checkpoint(out, model, clip, vae, metadata, dtype=dtype)
    return {"bytes": out.stat().st_size, "report": report}


def pack_unet(inpaint: Path, out: Path = INPAINT_UNET, dtype: torch.dtype = torch.float16) -> dict:
    """The inpainting UNet alone (``model.diffusion_model.*``), used with the checkpoint's CLIP and VAE."""
    from nodeflow.models.saver import save_checkpoint

    model, _, report = _trained(inpaint)
    metadata = {
        "nodeflow.demo": "NodeFlow demo pack 9-channel inpainting UNet, fine-tuned from the demo "
        "text-to-image model by nodeflow/demo/train_inpaint.py; use it with "
        "nodeflow-demo-sd1's CLIP and VAE",
        "nodeflow.report": report,
    }
    save_checkpoint(out, model, None, None, metadata, dtype=dtype)
    return {"bytes": out.stat().st_size, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["checkpoint", "unet"])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--vae", type=Path, default=CHECKPOINT, help="checkpoint only: train_vae's .pt or a packed checkpoint"
    )
    args = parser.parse_args()
    if args.kind == "checkpoint":
        print(json.dumps(pack(args.source, args.out, args.vae)))
    else:
        print(json.dumps(pack_unet(args.source, args.out)))


if __name__ == "__main__":
    main()

"""Load a diffusers-format model folder (unet/, vae/, text_encoder/, text_encoder_2/,
scheduler/) with local files only. The tokenizer is NodeFlow's shipped CLIP tokenizer (the
same vocabulary every SD family uses)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .checkpoint_file import ModelFileError
from .clip_model import EOS, TextEncoder
from .diffusion_model import DiffusionModel
from .loader import SCALE_FACTORS, make_clip
from .patching import PatchedModule
from .vae_model import VAE, fit_latent_rgb

FAMILY_BY_CONTEXT = {768: "sd1", 1024: "sd2", 2048: "sdxl", 1280: "sdxl_refiner"}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc})") from None


def load_diffusers_folder(folder: Path, manager=None):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    if not (folder / "unet" / "config.json").is_file():
        raise ModelFileError(f"{folder.name} is not a diffusers model folder (no unet/config.json)")
    dtype = manager.dtype("unet") if manager is not None else torch.float32
    unet = UNet2DConditionModel.from_pretrained(folder / "unet", local_files_only=True, torch_dtype=dtype).eval()
    family = FAMILY_BY_CONTEXT.get(int(unet.config.cross_attention_dim), "sd1")
    scheduler = folder / "scheduler" / "scheduler_config.json"
    prediction = "eps"
    if scheduler.is_file() and _read_json(scheduler).get("prediction_type") == "v_prediction":
        prediction = "v"
    vae_dtype = manager.dtype("vae") if manager is not None else torch.float32
    vae_module = AutoencoderKL.from_pretrained(folder / "vae", local_files_only=True, torch_dtype=vae_dtype).eval()
    vae = VAE(vae_module, scale_factor=float(vae_module.config.scaling_factor), manager=manager, source=folder.name)
    encoders = []
    towers = [("text_encoder", CLIPTextModel), ("text_encoder_2", CLIPTextModelWithProjection)]
    if family == "sdxl_refiner":
        towers = [("text_encoder_2", CLIPTextModelWithProjection)]
    for sub, cls in towers:
        if not (folder / sub).is_dir():
            continue
        if family == "sd2":
            cls = CLIPTextModel
        module = cls.from_pretrained(folder / sub, local_files_only=True, torch_dtype=dtype).eval()
        is_l = sub == "text_encoder" and family in ("sd1", "sdxl")
        name = "clip_l" if is_l else ("clip_h" if family == "sd2" else "clip_g")
        layer = -1 if family == "sd1" else -2
        encoders.append(TextEncoder(PatchedModule(module), name, pad=EOS if is_l else 0, layer=layer,
                                    default_layer=layer, final_norm_on_hidden=family in ("sd1", "sd2")))
    model = DiffusionModel(PatchedModule(unet), family, prediction, in_channels=int(unet.config.in_channels),
                           scale_factor=SCALE_FACTORS[family], manager=manager, source=folder.name)
    model.latent_rgb_factors = fit_latent_rgb(vae)
    return model, make_clip(encoders, family, manager), vae

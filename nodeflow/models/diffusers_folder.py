"""Load a diffusers-format model folder (unet/ or, for SD3 / Flux, transformer/; vae/,
text_encoder/, text_encoder_2/, text_encoder_3/, scheduler/) with local files only. The tokenizer is NodeFlow's shipped CLIP tokenizer (the
same vocabulary every SD family uses)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .checkpoint_file import ModelFileError
from .diffusion_model import DiffusionModel
from .family import family_for_context
from .loader import make_clip, text_encoder_for
from .patching import PatchedModule
from .preview import remember_latent_space
from .vae_model import VAE, LazyRGBFit


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc})") from None


def load_transformer_folder(folder: Path, manager=None):
    """An SD3 / Flux diffusers folder: transformer/, vae/, text_encoder(_2, _3)/ (CLIP-L, CLIP-G, T5)."""
    import diffusers
    from diffusers import AutoencoderKL
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, T5EncoderModel

    from .family import family_for_transformer
    from .t5_encoder import T5Tower

    config = _read_json(folder / "transformer" / "config.json")
    try:
        family = family_for_transformer(config)
    except ValueError as exc:
        raise ModelFileError(f"{folder.name}: {exc}") from None
    dtype = manager.dtype("unet") if manager is not None else torch.float32
    cls = getattr(diffusers, config["_class_name"])
    network = cls.from_pretrained(folder / "transformer", local_files_only=True, torch_dtype=dtype).eval()
    vae_dtype = manager.dtype("vae") if manager is not None else torch.float32
    vae = VAE(
        AutoencoderKL.from_pretrained(folder / "vae", local_files_only=True, torch_dtype=vae_dtype).eval(),
        manager=manager,
        source=folder.name,
    )
    encoders = []
    clip_dtype = manager.dtype("text") if manager is not None else torch.float32
    for tower in family.text_towers:
        where = folder / tower.diffusers_folder
        if not where.is_dir():
            continue
        if tower.kind == "t5":
            module = T5EncoderModel.from_pretrained(where, local_files_only=True, torch_dtype=clip_dtype).eval()
            encoders.append(T5Tower(PatchedModule(module), tower.name, min_length=tower.max_tokens))
            continue
        text_cls = CLIPTextModelWithProjection if tower.projection else CLIPTextModel
        module = text_cls.from_pretrained(where, local_files_only=True, torch_dtype=clip_dtype).eval()
        encoders.append(text_encoder_for(PatchedModule(module), tower))
    model = DiffusionModel(PatchedModule(network.requires_grad_(False)), family, manager=manager, source=folder.name)
    model.rgb_fit = LazyRGBFit(vae)
    remember_latent_space(model)
    return model, make_clip(encoders, family, manager), vae


def load_diffusers_folder(folder: Path, manager=None):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    if (folder / "transformer" / "config.json").is_file():
        return load_transformer_folder(folder, manager)
    if not (folder / "unet" / "config.json").is_file():
        raise ModelFileError(f"{folder.name} is not a diffusers model folder (no unet/config.json)")
    dtype = manager.dtype("unet") if manager is not None else torch.float32
    unet = UNet2DConditionModel.from_pretrained(folder / "unet", local_files_only=True, torch_dtype=dtype).eval()
    scheduler = folder / "scheduler" / "scheduler_config.json"
    prediction = "eps"
    if scheduler.is_file() and _read_json(scheduler).get("prediction_type") == "v_prediction":
        prediction = "v"
    family = family_for_context(int(unet.config.cross_attention_dim)).variant(
        prediction=prediction, inpaint=int(unet.config.in_channels) != unet.config.out_channels
    )
    vae_dtype = manager.dtype("vae") if manager is not None else torch.float32
    vae_module = AutoencoderKL.from_pretrained(folder / "vae", local_files_only=True, torch_dtype=vae_dtype).eval()
    vae = VAE(vae_module, manager=manager, source=folder.name)
    encoders = []
    for tower in family.text_towers:
        if not (folder / tower.diffusers_folder).is_dir():
            continue
        cls = CLIPTextModelWithProjection if tower.projection else CLIPTextModel
        module = cls.from_pretrained(folder / tower.diffusers_folder, local_files_only=True, torch_dtype=dtype).eval()
        encoders.append(text_encoder_for(PatchedModule(module), tower))
    model = DiffusionModel(PatchedModule(unet), family, manager=manager, source=folder.name)
    model.rgb_fit = LazyRGBFit(vae)
    remember_latent_space(model)
    return model, make_clip(encoders, family, manager), vae

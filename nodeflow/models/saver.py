"""Write MODEL + CLIP + VAE as one single-file checkpoint in the released (original) layout, so
that loading it back gives identical weights (and other tools read it as an SD file). SD3 and Flux
models are written as the all-in-one files of those families are laid out (the transformer renamed
back by the family's rename table, the VAE in the original layout, the text towers in transformers'
names under ``text_encoders.*``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .clip_model import CLIP
from .convert_clip import OPEN_CLIP_LOGIT_SCALE, clip_l_from_hf, open_clip_from_hf
from .convert_vae import vae_from_diffusers
from .diffusion_model import DiffusionModel
from .fast_modes import require_float_weights
from .fp8_storage import bake_patches
from .half_storage import widens_to
from .text_towers import released_tower_state
from .vae_model import VAE


def _state(module: torch.nn.Module, dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
    """Tensors in ``dtype``; None: as the module computes (16-bit stored weights of an fp32 module are
    saved fp32 like the rest, ``half_storage``; fp8 storage stays fp8)."""
    out = {}
    for k, v in module.state_dict().items():
        v = v.detach().to("cpu")
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        elif (wide := widens_to(module, v)) is not None:
            v = v.to(wide)
        out[k] = v
    return bake_patches(module, out)


def checkpoint_state(
    model: DiffusionModel, clip: CLIP | None, vae: VAE | None, dtype: torch.dtype | None = None
) -> dict[str, torch.Tensor]:
    """Every tensor under its released name; the model's and CLIP's patches (LoRA) are baked in."""
    require_float_weights(model.unet.module, "it cannot be saved as a checkpoint")
    model.unet.activate()
    unet_module = model.unet.module
    tensors = {
        f"model.diffusion_model.{k}": v
        for k, v in model.family.from_network(_state(unet_module, dtype), dict(unet_module.config)).items()
    }
    if vae is not None:
        config = dict(vae.module.config)
        tensors.update(
            {f"first_stage_model.{k}": v for k, v in vae_from_diffusers(_state(vae.module, dtype), config).items()}
        )
    if clip is not None:
        for enc in clip.encoders:
            tower = model.family.tower(enc.name)
            if tower is None:
                raise ValueError(f"a {enc.name} text encoder does not belong in a {model.family.label} checkpoint")
            enc.model.activate()
            state = _state(enc.model.module, dtype)
            if tower.kind in ("hf_clip", "t5"):  # SD3 / Flux all-in-one files: transformers names under the prefix
                tensors.update(released_tower_state(state, tower))
                continue
            if (
                tower.kind == "clip_l"
            ):  # OpenAI CLIP layout (released SDXL files carry its position ids, SD1.5 files not)
                converted = clip_l_from_hf(state, position_ids=tower.saves_position_ids)
            else:
                converted = open_clip_from_hf(state, logit_scale=OPEN_CLIP_LOGIT_SCALE)
            tensors.update({tower.prefix + k: v for k, v in converted.items()})
    return {k: v.contiguous().clone() for k, v in tensors.items()}


def save_checkpoint(
    path: Path,
    model: DiffusionModel,
    clip: CLIP | None,
    vae: VAE | None,
    metadata: dict | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    from safetensors.torch import save_file

    tensors = checkpoint_state(model, clip, vae, dtype)
    meta = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in (metadata or {}).items()}
    if model.prediction == "v":
        tensors["v_pred"] = torch.tensor([])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)
    return path

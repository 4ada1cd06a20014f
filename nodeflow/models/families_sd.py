"""Stable Diffusion 1.x, 2.x and XL (base, refiner) with their v-prediction and inpainting
variants, described as data (see family.py). Every one uses the SD discrete noise schedule and
a UNet2DConditionModel-shaped network (nets/sd_unet.py); they differ in latent scale, text towers and SDXL's extras."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Sequence

import torch

from .family import ModelFamily, Recognition, TextTower, register
from .latent_format import LatentFormat

log = logging.getLogger(__name__)

SD_LATENT = LatentFormat(channels=4, scale_factor=0.18215)
SDXL_LATENT = LatentFormat(channels=4, scale_factor=0.13025)


@functools.lru_cache(maxsize=1)
def sd_schedule():
    """The scaled-linear discrete schedule (1,000 steps, betas 0.00085..0.012) all of them share."""
    from nodeflow.sampling.schedules import DiscreteSchedule

    return DiscreteSchedule.sd()


def unet_network(config: dict) -> torch.nn.Module:
    """NodeFlow's own UNet (same names and numbers, no diffusers import) for every config it
    supports, diffusers' UNet2DConditionModel for anything else."""
    from .nets.sd_unet import SDUNet

    reason = SDUNet.supports(config)
    if reason is None:
        return SDUNet(**config)
    log.debug("UNet config not built by NodeFlow's own UNet (%s); using diffusers'", reason)
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**config)


def unet_config(unet_shapes, family: ModelFamily, pooled_dim: int | None) -> dict:
    from .detect import unet_config_from_shapes

    return unet_config_from_shapes(unet_shapes, family, pooled_dim)


def unet_to_network(state, config: dict) -> dict:
    from .convert_unet import unet_to_diffusers

    return unet_to_diffusers(state, config)


def unet_from_network(state, config: dict) -> dict:
    from .convert_unet import unet_from_diffusers

    return unet_from_diffusers(state, config)


def heads_of_64(widths: Sequence[int]) -> tuple[int, ...]:
    """SD2 / SDXL use 64-channel heads; tiny test models fall back to a single head."""
    return tuple(w // 64 if w % 64 == 0 else 1 for w in widths)


def _size_ids(with_target: bool):
    """SDXL's extra conditioning: the pooled text embedding and the size / crop (and target size
    or aesthetic score, for the refiner) numbers, per batch item."""

    def extra_conds(options: dict, batch: int, height: int, width: int) -> dict:
        pooled = options.get("pooled_output")
        if pooled is None:
            raise ValueError("SDXL conditioning has no pooled output: encode the prompt with this model's CLIP")
        h, w = options.get("height", height), options.get("width", width)
        crop = [options.get("crop_h", 0), options.get("crop_w", 0)]
        tail = (
            [options.get("target_height", h), options.get("target_width", w)]
            if with_target
            else [options.get("aesthetic_score", 6.0)]
        )
        time_ids = torch.tensor([[h, w, *crop, *tail]], dtype=torch.float32).repeat(batch, 1)
        return {
            "text_embeds": pooled.float().repeat(math.ceil(batch / pooled.shape[0]), 1)[:batch],
            "time_ids": time_ids,
        }

    return extra_conds


def _has_label(found: Recognition) -> bool:
    return "label_emb.0.0.weight" in found.unet


def _adm_width(found: Recognition) -> int:
    return found.unet["label_emb.0.0.weight"][1]


def _linear_attention(found: Recognition) -> bool:
    proj = next((k for k in found.unet if k.endswith(".proj_in.weight")), None)
    return proj is not None and len(found.unet[proj]) == 2


COMMON = {
    "stored_16bit": True,  # UNets: fp16 checkpoint weights stay fp16 on a CPU computing in fp32
    "schedule": sd_schedule,
    "read_config": unet_config,
    "network": unet_network,
    "to_network": unet_to_network,
    "from_network": unet_from_network,
}

SD1 = ModelFamily(
    name="sd1",
    label="Stable Diffusion 1.x",
    latent_format=SD_LATENT,
    context_dim=768,
    text_towers=(TextTower("clip_l", "cond_stage_model.transformer.text_model."),),
    pooled_tower="clip_l",
    recognise=lambda f: not _has_label(f),
    **COMMON,
)

SD2 = ModelFamily(
    name="sd2",
    label="Stable Diffusion 2.x",
    latent_format=SD_LATENT,
    context_dim=1024,
    heads=heads_of_64,
    text_towers=(TextTower("clip_h", "cond_stage_model.model.", "open_clip", layer=-2, pad_with_eos=False),),
    pooled_tower="clip_h",
    vae_sample_size=768,
    recognise=lambda f: (
        not _has_label(f)
        and (
            "cond_stage_model.model." in f.text_prefixes
            or (
                not any(p.startswith("cond_stage_model.transformer.") for p in f.text_prefixes) and _linear_attention(f)
            )
        )
    ),
    **COMMON,
)

_XL_G = {
    "layer": -2,
    "pad_with_eos": False,
    "final_norm_on_hidden": False,
    "lora_prefixes": ("lora_te2_", "text_encoder_2."),
    "diffusers_folder": "text_encoder_2",
    "projection": True,
}

SDXL = ModelFamily(
    name="sdxl",
    label="Stable Diffusion XL",
    latent_format=SDXL_LATENT,
    context_dim=2048,
    heads=heads_of_64,
    text_towers=(
        TextTower(
            "clip_l",
            "conditioner.embedders.0.transformer.text_model.",
            layer=-2,
            final_norm_on_hidden=False,
            saves_position_ids=True,
            lora_prefixes=("lora_te1_", "text_encoder."),
        ),
        TextTower("clip_g", "conditioner.embedders.1.model.", "open_clip", **_XL_G),
    ),
    pooled_tower="clip_g",
    unet_sample_size=128,
    vae_sample_size=1024,
    extra_conds=_size_ids(True),
    time_ids=6,
    comfy_class="SDXL",
    recognise=lambda f: (
        _has_label(f)
        and (
            "conditioner.embedders.1.model." in f.text_prefixes
            or "clip_l" in f.text_kinds
            or (not f.text_prefixes and _adm_width(f) != 2560)
        )
    ),
    **COMMON,
)

SDXL_REFINER = ModelFamily(
    name="sdxl_refiner",
    label="Stable Diffusion XL refiner",
    latent_format=SDXL_LATENT,
    context_dim=1280,
    heads=heads_of_64,
    text_towers=(TextTower("clip_g", "conditioner.embedders.0.model.", "open_clip", **_XL_G),),
    pooled_tower="clip_g",
    unet_sample_size=128,
    vae_sample_size=1024,
    extra_conds=_size_ids(False),
    time_ids=5,
    comfy_class="SDXLRefiner",
    recognise=lambda f: (
        _has_label(f)
        and ("conditioner.embedders.0.model." in f.text_prefixes or (not f.text_prefixes and _adm_width(f) == 2560))
    ),
    **COMMON,
)


def _variant(family: ModelFamily, suffix: str, label: str, **changes) -> ModelFamily:
    return dataclasses.replace(
        family, name=f"{family.name}_{suffix}", label=f"{family.label} {label}", base=family.name, **changes
    )


register(
    SDXL,
    SDXL_REFINER,
    SD2,
    SD1,  # base families, most specific recognition rule first
    _variant(SD1, "inpaint", "inpainting", inpaint=True),
    _variant(SD2, "v", "(v-prediction)", prediction="v", unet_sample_size=96),
    _variant(SD2, "inpaint", "inpainting", inpaint=True),
    _variant(SDXL, "inpaint", "inpainting", inpaint=True),
    _variant(SD1, "v", "(v-prediction)", prediction="v"),
    _variant(SDXL, "v", "(v-prediction)", prediction="v"),
)

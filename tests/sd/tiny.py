"""Tiny random SD-family models in the real formats, built at test time (shared by the SD tests)."""

from __future__ import annotations

from pathlib import Path

import torch

UNET_SD1 = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (32, 64),
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
VAE_CFG = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 32,
    "block_out_channels": (32, 32, 32, 32),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "sample_size": 64,
}
CLIP_CFG = {
    "vocab_size": 49408,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 1,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
    "projection_dim": 32,
}


def tiny_sd1_modules(seed: int = 0, in_channels: int = 4):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**{**UNET_SD1, "in_channels": in_channels}).eval()
    vae = AutoencoderKL(**VAE_CFG).eval()
    text = CLIPTextModel(CLIPTextConfig(**CLIP_CFG)).eval()
    return unet, vae, text


DEMO_VAE = (
    Path(__file__).resolve().parents[2]
    / "nodeflow"
    / "demo"
    / "weights"
    / "checkpoints"
    / "nodeflow-demo-sd1.safetensors"
)


def write_tiny_sd1(
    path: Path, seed: int = 0, in_channels: int = 4, dtype=torch.float32, trained_vae: bool = False
) -> Path:
    """A tiny SD1-layout single-file .safetensors (names exactly as released files use); with
    ``trained_vae`` the VAE is the demo pack's trained one (for pixel-level checks)."""
    from safetensors.torch import save_file

    from nodeflow.models.convert_clip import clip_l_from_hf
    from nodeflow.models.convert_unet import unet_from_diffusers
    from nodeflow.models.convert_vae import vae_from_diffusers

    unet, vae, text = tiny_sd1_modules(seed, in_channels)
    if trained_vae:
        from nodeflow.demo.train_t2i import load_trained_vae

        vae = load_trained_vae(DEMO_VAE)
    tensors = {}
    tensors.update(
        {f"model.diffusion_model.{k}": v for k, v in unet_from_diffusers(unet.state_dict(), dict(unet.config)).items()}
    )
    tensors.update(
        {f"first_stage_model.{k}": v for k, v in vae_from_diffusers(vae.state_dict(), dict(vae.config)).items()}
    )
    tensors.update(
        {f"cond_stage_model.transformer.text_model.{k}": v for k, v in clip_l_from_hf(text.state_dict()).items()}
    )
    tensors = {k: v.detach().to(dtype).contiguous().clone() for k, v in tensors.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return path


OPEN_CLIP_CFG = dict(
    CLIP_CFG,
    hidden_size=64,
    intermediate_size=128,
    num_attention_heads=1,
    hidden_act="gelu",
    projection_dim=64,
    pad_token_id=0,
)


def _open_clip_text(seed: int):
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    return CLIPTextModelWithProjection(CLIPTextConfig(**OPEN_CLIP_CFG)).eval()


def write_tiny_family(path: Path, family: str, seed: int = 0) -> Path:
    """Tiny SD2 (OpenCLIP under cond_stage_model.model., linear projections) or SDXL-refiner
    (OpenCLIP-G alone under conditioner.embedders.0.model., text_time extra embedding) files."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file

    from nodeflow.models.convert_clip import OPEN_CLIP_LOGIT_SCALE, open_clip_from_hf
    from nodeflow.models.convert_unet import unet_from_diffusers
    from nodeflow.models.convert_vae import vae_from_diffusers

    torch.manual_seed(seed)
    unet_cfg = dict(UNET_SD1, cross_attention_dim=64, attention_head_dim=(1, 1), use_linear_projection=True)
    if family == "sdxl_refiner":
        unet_cfg.update(
            addition_embed_type="text_time",
            addition_time_embed_dim=16,
            projection_class_embeddings_input_dim=64 + 5 * 16,
        )
    unet = UNet2DConditionModel(**unet_cfg).eval()
    vae = AutoencoderKL(**VAE_CFG).eval()
    text = _open_clip_text(seed)
    text_prefix = "cond_stage_model.model." if family == "sd2" else "conditioner.embedders.0.model."
    tensors = {
        f"model.diffusion_model.{k}": v for k, v in unet_from_diffusers(unet.state_dict(), dict(unet.config)).items()
    }
    tensors.update(
        {f"first_stage_model.{k}": v for k, v in vae_from_diffusers(vae.state_dict(), dict(vae.config)).items()}
    )
    tensors.update(
        {text_prefix + k: v for k, v in open_clip_from_hf(text.state_dict(), logit_scale=OPEN_CLIP_LOGIT_SCALE).items()}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().clone() for k, v in tensors.items()}, str(path))
    return path

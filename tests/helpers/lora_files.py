"""A Kohya-format LoRA file for the tiny SD1 model (tests/sd/tiny.py): one UNet and one text-encoder
projection, seeded."""

import torch
from safetensors.torch import save_file


def kohya_lora(path, rank=2, alpha=1.0, original_names=False):
    g = torch.Generator().manual_seed(0)
    unet_key = (
        "lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q"
        if original_names
        else "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    )
    tensors = {
        f"{unet_key}.lora_down.weight": torch.randn(rank, 32, generator=g),
        f"{unet_key}.lora_up.weight": torch.randn(32, rank, generator=g),
        f"{unet_key}.alpha": torch.tensor(alpha),
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": torch.randn(rank, 32, generator=g),
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": torch.randn(32, rank, generator=g),
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha": torch.tensor(alpha),
    }
    save_file(tensors, str(path))
    return tensors, unet_key

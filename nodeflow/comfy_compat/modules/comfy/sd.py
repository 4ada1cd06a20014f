"""ComfyUI's ``comfy.sd`` for custom-node packs, on NodeFlow's loaders (see
nodeflow/comfy_compat/loading.py). ``VAE`` and ``CLIP`` are NodeFlow's VAE and CLIP under ComfyUI's
names (isinstance holds)."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.loading import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    CLIP,
    VAE,
    CLIPType,
    load_checkpoint,
    load_checkpoint_guess_config,
    load_clip,
    load_diffusion_model,
    load_diffusion_model_state_dict,
    load_lora_for_models,
    load_state_dict_guess_config,
    load_text_encoder_state_dicts,
    load_unet,
    save_checkpoint,
)

__getattr__ = missing("comfy.sd")

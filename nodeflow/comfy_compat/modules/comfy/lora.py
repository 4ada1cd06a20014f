"""ComfyUI's ``comfy.lora`` for custom-node packs: LoRA key maps, LoRA state dicts as patch values,
``calculate_weight`` (see nodeflow/comfy_compat/lora_keys.py)."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.lora_keys import calculate_weight, load_lora, model_lora_keys_clip, model_lora_keys_unet  # noqa: F401 -- re-exported: ComfyUI's module offers these names

__getattr__ = missing("comfy.lora")

"""comfy.ldm.qwen_image: Qwen-Image model pieces (the joint attention class packs patch)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.qwen_image")

"""comfy.ldm.modules: attention and diffusion-model building blocks under ComfyUI's names."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.modules")

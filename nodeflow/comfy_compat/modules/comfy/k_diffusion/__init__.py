"""ComfyUI's ``comfy.k_diffusion`` package for custom-node packs, on NodeFlow's samplers."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.k_diffusion")

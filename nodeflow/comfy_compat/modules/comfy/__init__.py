"""NodeFlow's comfy package for ComfyUI custom-node packs (see nodeflow/comfy_compat)."""

from nodeflow.comfy_compat import package_getattr

__getattr__ = package_getattr("comfy")

"""NodeFlow's comfy_extras package for ComfyUI custom-node packs (see nodeflow/comfy_compat)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy_extras")

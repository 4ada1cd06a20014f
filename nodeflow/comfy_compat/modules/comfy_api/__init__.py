"""NodeFlow's comfy_api package for ComfyUI custom-node packs (see nodeflow/comfy_compat)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy_api")

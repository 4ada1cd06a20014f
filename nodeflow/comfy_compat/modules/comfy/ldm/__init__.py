"""comfy.ldm: ComfyUI's model-code package for custom-node packs (NodeFlow's own shims)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm")

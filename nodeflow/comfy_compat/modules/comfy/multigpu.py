"""ComfyUI's ``comfy.multigpu`` for custom-node packs. NodeFlow runs each prompt on one device, so
this module provides no multi-GPU helpers; anything asked of it is named as missing."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.multigpu")

"""comfy.ldm.modules.diffusionmodules: the SD UNet (openaimodel) and its helpers (util)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.modules.diffusionmodules")

"""comfy.ldm.wan: Wan model pieces (sinusoidal position embedding)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.wan")

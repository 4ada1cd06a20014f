"""comfy.ldm.lightricks: LTX-Video model pieces (rotary embedding)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.lightricks")

"""comfy.text_encoders: text-encoder classes of the newer model families, for custom-node packs."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.text_encoders")

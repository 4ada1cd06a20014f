"""comfy_extras.chainner_models for custom-node packs (older packs load upscale models through it)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy_extras.chainner_models")

"""comfy.ldm.lightricks.vae: LTX VAEs (the audio VAE, not supported by NodeFlow)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.lightricks.vae")

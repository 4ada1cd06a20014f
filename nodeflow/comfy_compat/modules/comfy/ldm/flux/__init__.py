"""comfy.ldm.flux: Flux model pieces (math: rotary embeddings and attention)."""

from nodeflow.comfy_compat import missing

__getattr__ = missing("comfy.ldm.flux")

"""ComfyUI's ``comfy.float`` for custom-node packs, on NodeFlow."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.float_ops import stochastic_rounding  # noqa: F401 -- re-exported: ComfyUI's module offers these names

__getattr__ = missing("comfy.float")

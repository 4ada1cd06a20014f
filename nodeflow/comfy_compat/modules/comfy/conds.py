"""ComfyUI's ``comfy.conds`` for custom-node packs, on NodeFlow."""

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.conds import CONDConstant, CONDCrossAttn, CONDList, CONDNoiseShape, CONDRegular  # noqa: F401 -- re-exported: ComfyUI's module offers these names

__getattr__ = missing("comfy.conds")

"""ComfyUI's ``comfy.comfy_types`` for custom-node packs (see ``node_typing``)."""

from nodeflow.comfy_compat import missing

from .node_typing import (
    IO,
    CheckLazyMixin,
    ComfyNodeABC,
    FileLocator,
    HiddenInputTypeDict,
    InputTypeDict,
    InputTypeOptions,
)

__all__ = [
    "IO",
    "CheckLazyMixin",
    "ComfyNodeABC",
    "FileLocator",
    "HiddenInputTypeDict",
    "InputTypeDict",
    "InputTypeOptions",
]

__getattr__ = missing("comfy.comfy_types")

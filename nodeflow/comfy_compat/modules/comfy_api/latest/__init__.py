"""comfy_api.latest for ComfyUI V3 packs (written for NodeFlow): ``io`` (the node schema),
``ui`` (what a node shows) and ComfyExtension, which a pack's ``async def comfy_entrypoint()``
returns; NodeFlow's loader calls it and registers ``get_node_list()``'s nodes."""

from __future__ import annotations

from nodeflow.comfy_compat import missing

from . import io, ui
from ._node import ComfyNode


class ComfyExtension:
    async def on_load(self) -> None:
        """Set-up before the nodes are listed (optional)."""

    async def get_node_list(self) -> list[type[ComfyNode]]:
        raise NotImplementedError(f"{type(self).__name__}.get_node_list is not implemented")


__all__ = ["ComfyExtension", "io", "ui"]

__getattr__ = missing("comfy_api.latest")

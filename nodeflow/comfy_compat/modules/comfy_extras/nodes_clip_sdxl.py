"""comfy_extras.nodes_clip_sdxl for custom-node packs: SDXL text encoding with size conditioning, run
by NodeFlow's built-ins (V1 method ``encode``, V3 ``execute``)."""
from __future__ import annotations

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.builtin_nodes import comfy_node
from nodeflow.nodes import conditioning as _nf

CLIPTextEncodeSDXL = comfy_node(_nf.CLIPTextEncodeSDXL, "encode", __name__)
CLIPTextEncodeSDXLRefiner = comfy_node(_nf.CLIPTextEncodeSDXLRefiner, "encode", __name__)

__getattr__ = missing("comfy_extras.nodes_clip_sdxl")

"""comfy_extras.nodes_clip_sdxl for custom-node packs: SDXL text encoding with size conditioning, run
by NodeFlow's built-ins (V1 method ``encode``, V3 ``execute``)."""

from __future__ import annotations

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import core_class
from nodeflow.nodes import conditioning as _nf

CLIPTextEncodeSDXL = core_class(_nf.CLIPTextEncodeSDXL, __name__)
CLIPTextEncodeSDXLRefiner = core_class(_nf.CLIPTextEncodeSDXLRefiner, __name__)

__getattr__ = missing("comfy_extras.nodes_clip_sdxl")

"""comfy_extras.nodes_upscale_model for custom-node packs: the upscale-model nodes, run by NodeFlow's
built-ins (spandrel models, tiled upscaling). V1 methods ``load_model(model_name)`` and
``upscale(upscale_model, image)``; V3 ``execute``."""
from __future__ import annotations

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.builtin_nodes import comfy_node
from nodeflow.nodes import upscale as _nf

UpscaleModelLoader = comfy_node(_nf.UpscaleModelLoader, "load_model", __name__)
ImageUpscaleWithModel = comfy_node(_nf.ImageUpscaleWithModel, "upscale", __name__)

__getattr__ = missing("comfy_extras.nodes_upscale_model")

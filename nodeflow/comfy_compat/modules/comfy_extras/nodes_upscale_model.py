"""comfy_extras.nodes_upscale_model for custom-node packs: the upscale-model nodes, run by NodeFlow's
built-ins (spandrel models, tiled upscaling). V1 methods ``load_model(model_name)`` and
``upscale(upscale_model, image)``; V3 ``execute``."""

from __future__ import annotations

from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.v1_wrappers import core_class
from nodeflow.nodes import upscale as _nf

UpscaleModelLoader = core_class(_nf.UpscaleModelLoader, __name__)
ImageUpscaleWithModel = core_class(_nf.ImageUpscaleWithModel, __name__)

__getattr__ = missing("comfy_extras.nodes_upscale_model")

"""ComfyUI's ``comfy.model_patcher`` for custom-node packs, on NodeFlow (see nodeflow/comfy_compat).
NodeFlow's MODEL objects are ModelPatchers (isinstance holds)."""

from comfy.patcher_extension import PatcherInjection  # noqa: F401  (ComfyUI re-exports it here)
from nodeflow.comfy_compat import missing
from nodeflow.comfy_compat.model_patcher import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    ModelPatcher,
    create_model_options_clone,
    set_model_options_patch_replace,
    set_model_options_post_cfg_function,
    set_model_options_pre_cfg_function,
)
from nodeflow.models.comfy_facade.weights import calculate_weight  # noqa: F401 -- re-exported: ComfyUI's module offers these names

__getattr__ = missing("comfy.model_patcher")

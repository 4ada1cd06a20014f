"""ComfyUI's ``comfy.model_base`` for custom-node packs: ``model.model`` of a NodeFlow MODEL is a
BaseModel view (SDXL / SDXLRefiner for those families); the other architecture classes exist so
that packs' isinstance tests answer False."""

from comfy.model_sampling import CONST, EDM, EPS, V_PREDICTION, ModelSamplingDiscrete, ModelSamplingDiscreteFlow
from nodeflow.comfy_compat import missing
from nodeflow.models.comfy_facade.base_model import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    MARKERS,
    SD21UNCLIP,
    SDXL,
    BaseModel,
    ModelType,
    SDXLRefiner,
    SVD_img2vid,
)
from nodeflow.models.comfy_facade.model_sampling import sampling_class

globals().update(MARKERS)

_PREDICTIONS = {
    ModelType.EPS: EPS,
    ModelType.V_PREDICTION: V_PREDICTION,
    ModelType.EDM: EDM,
    ModelType.V_PREDICTION_EDM: V_PREDICTION,
    ModelType.FLOW: CONST,
}


def model_sampling(model_config, model_type):
    """The ModelSampling object (prediction mixin x sigma table) for a config and ModelType."""
    if model_type not in _PREDICTIONS:
        raise NotImplementedError(f"model type {model_type} is not supported by NodeFlow")
    table = ModelSamplingDiscreteFlow if model_type == ModelType.FLOW else ModelSamplingDiscrete
    return sampling_class(_PREDICTIONS[model_type], table)(model_config)


__getattr__ = missing("comfy.model_base")

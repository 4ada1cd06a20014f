"""ComfyUI's ``comfy.model_sampling`` for custom-node packs: prediction mixins and sigma tables on
NodeFlow's schedules (see nodeflow/models/comfy_facade/model_sampling.py)."""

from nodeflow.comfy_compat import missing
from nodeflow.models.comfy_facade.model_sampling import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    CONST,
    EDM,
    EPS,
    V_PREDICTION,
    ModelSamplingDiscrete,
    ModelSamplingDiscreteFlow,
    ModelSamplingFlux,
    time_snr_shift,
)

__getattr__ = missing("comfy.model_sampling")

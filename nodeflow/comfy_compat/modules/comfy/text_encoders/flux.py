"""comfy.text_encoders.flux for custom-node packs: Flux's text-encoder class (CLIP-L + T5-XXL), for
isinstance tests; NodeFlow has no Flux models (see comfy.sd1_clip)."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import missing

from ..sd1_clip import MultiTowerModel, SDClipModel
from .sd3_clip import T5XXLModel


class FluxClipModel(MultiTowerModel):
    """Flux's encoders: ``clip_l`` (pooled output) and ``t5xxl``."""

    def __init__(
        self, dtype_t5: Any = None, device: Any = "cpu", dtype: Any = None, model_options: dict | None = None
    ) -> None:
        super().__init__()
        self.clip_l = SDClipModel(
            device=device, dtype=dtype, return_projected_pooled=False, model_options=model_options
        )
        self.t5xxl = T5XXLModel(device=device, dtype=dtype_t5, model_options=model_options)
        self.dtypes = {dtype, dtype_t5}

    def towers(self) -> list[SDClipModel]:
        return [self.clip_l, self.t5xxl]


__getattr__ = missing("comfy.text_encoders.flux")

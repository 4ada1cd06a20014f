"""comfy.text_encoders.sd3_clip for custom-node packs: the T5-XXL and SD3 text-encoder classes (for
isinstance tests; NodeFlow has no SD3 or T5 models, see comfy.sd1_clip)."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import missing

from ..sd1_clip import MultiTowerModel, SDClipModel
from ..sdxl_clip import SDXLClipG


class T5XXLModel(SDClipModel):
    """The T5-XXL encoder tower (end token 1, pad 0)."""

    def __init__(
        self,
        device: Any = "cpu",
        layer: str = "last",
        layer_idx: int | None = None,
        dtype: Any = None,
        attention_mask: bool = False,
        model_options: dict | None = None,
    ) -> None:
        super().__init__(
            device=device,
            layer=layer,
            layer_idx=layer_idx,
            dtype=dtype,
            special_tokens={"end": 1, "pad": 0},
            enable_attention_masks=attention_mask,
            return_attention_masks=attention_mask,
            model_options=model_options,
        )


class SD3ClipModel(MultiTowerModel):
    """SD3's encoders: ``clip_l``, ``clip_g`` and ``t5xxl``, each optional (None when left out)."""

    def __init__(
        self,
        clip_l: bool = True,
        clip_g: bool = True,
        t5: bool = True,
        dtype_t5: Any = None,
        t5_attention_mask: bool = False,
        device: Any = "cpu",
        dtype: Any = None,
        model_options: dict | None = None,
    ) -> None:
        super().__init__()
        self.clip_l = (
            SDClipModel(
                layer="hidden",
                layer_idx=-2,
                device=device,
                dtype=dtype,
                layer_norm_hidden_state=False,
                return_projected_pooled=False,
                model_options=model_options,
            )
            if clip_l
            else None
        )
        self.clip_g = SDXLClipG(device=device, dtype=dtype, model_options=model_options) if clip_g else None
        self.t5xxl = (
            T5XXLModel(device=device, dtype=dtype_t5, attention_mask=t5_attention_mask, model_options=model_options)
            if t5
            else None
        )
        self.dtypes = {dtype, dtype_t5}

    def towers(self) -> list[SDClipModel]:
        return [t for t in (self.clip_l, self.clip_g, self.t5xxl) if t is not None]


__getattr__ = missing("comfy.text_encoders.sd3_clip")

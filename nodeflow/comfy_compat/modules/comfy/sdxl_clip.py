"""comfy.sdxl_clip for custom-node packs: the SDXL, SDXL-refiner and Stable Cascade text-encoder
classes (see comfy.sd1_clip for what they are in NodeFlow)."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import missing

from .sd1_clip import MultiTowerModel, SD1ClipModel, SDClipModel


class SDXLClipG(SDClipModel):
    """OpenCLIP bigG tower: the penultimate layer by default, pads with 0."""

    def __init__(
        self,
        device: Any = "cpu",
        max_length: int = 77,
        freeze: bool = True,
        layer: str = "penultimate",
        layer_idx: int | None = None,
        dtype: Any = None,
        model_options: dict | None = None,
        **kwargs: Any,
    ) -> None:
        if layer == "penultimate":
            layer, layer_idx = "hidden", -2
        kwargs.setdefault("special_tokens", {"start": 49406, "end": 49407, "pad": 0})
        super().__init__(
            device=device,
            max_length=max_length,
            freeze=freeze,
            layer=layer,
            layer_idx=layer_idx,
            dtype=dtype,
            layer_norm_hidden_state=False,
            model_options=model_options,
            **kwargs,
        )


class SDXLClipModel(MultiTowerModel):
    """SDXL's two towers: ``clip_l`` (penultimate layer) and ``clip_g``."""

    def __init__(self, device: Any = "cpu", dtype: Any = None, model_options: dict | None = None) -> None:
        super().__init__()
        self.clip_l = SDClipModel(
            layer="hidden",
            layer_idx=-2,
            device=device,
            dtype=dtype,
            layer_norm_hidden_state=False,
            model_options=model_options,
        )
        self.clip_g = SDXLClipG(device=device, dtype=dtype, model_options=model_options)
        self.dtypes = {dtype}

    def towers(self) -> list[SDClipModel]:
        return [self.clip_l, self.clip_g]

    def encode_token_weights(self, token_weight_pairs: Any) -> Any:
        return self.clip_l.encode_token_weights(token_weight_pairs)


class SDXLRefinerClipModel(SD1ClipModel):
    """The SDXL refiner's single bigG tower (``clip_g``)."""

    def __init__(self, device: Any = "cpu", dtype: Any = None, model_options: dict | None = None) -> None:
        super().__init__(device=device, dtype=dtype, clip_name="g", clip_model=SDXLClipG, model_options=model_options)


class StableCascadeClipG(SDClipModel):
    """Stable Cascade's bigG tower (last hidden layer, pads with the end token)."""

    def __init__(
        self,
        device: Any = "cpu",
        max_length: int = 77,
        freeze: bool = True,
        layer: str = "hidden",
        layer_idx: int | None = -1,
        dtype: Any = None,
        model_options: dict | None = None,
    ) -> None:
        super().__init__(
            device=device,
            max_length=max_length,
            freeze=freeze,
            layer=layer,
            layer_idx=layer_idx,
            dtype=dtype,
            layer_norm_hidden_state=False,
            enable_attention_masks=True,
            model_options=model_options,
        )


class StableCascadeClipModel(SD1ClipModel):
    """Stable Cascade's text encoder (``clip_g``)."""

    def __init__(self, device: Any = "cpu", dtype: Any = None, model_options: dict | None = None) -> None:
        super().__init__(
            device=device, dtype=dtype, clip_name="g", clip_model=StableCascadeClipG, model_options=model_options
        )


__getattr__ = missing("comfy.sdxl_clip")

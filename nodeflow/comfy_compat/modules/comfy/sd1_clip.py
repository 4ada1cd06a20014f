"""comfy.sd1_clip for custom-node packs: the text-encoder model classes a CLIP holds in
``cond_stage_model``. Packs mostly test ``isinstance(clip.cond_stage_model, ...)`` and set clip
options; NodeFlow's CLIP encodes text itself, so these classes are light wrappers: made from a
NodeFlow CLIP (``nodeflow.comfy_compat.encoder_models.cond_stage_model_for``) each tower wrapper
holds NodeFlow's encoder in ``encoder``; built directly they hold none."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.comfy_compat import missing

LAYERS = ("last", "pooled", "hidden", "all")


class SDClipModel(torch.nn.Module):
    """One CLIP-style text tower: which layer it outputs and its special tokens."""

    def __init__(
        self,
        device: Any = "cpu",
        max_length: int = 77,
        freeze: bool = True,
        layer: str = "last",
        layer_idx: int | None = None,
        textmodel_json_config: Any = None,
        dtype: Any = None,
        model_class: Any = None,
        special_tokens: dict | None = None,
        layer_norm_hidden_state: bool = True,
        enable_attention_masks: bool = False,
        zero_out_masked: bool = False,
        return_projected_pooled: bool = True,
        return_attention_masks: bool = False,
        model_options: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if layer not in LAYERS:
            raise ValueError(f"layer: {layer!r} is not one of {LAYERS}")
        if layer == "hidden" and layer_idx is None:
            raise ValueError("layer 'hidden' needs layer_idx")
        self.max_length, self.freeze, self.dtype = max_length, freeze, dtype
        self.layer, self.layer_idx, self.return_projected_pooled = layer, layer_idx, return_projected_pooled
        self.layer_norm_hidden_state = layer_norm_hidden_state
        self.enable_attention_masks, self.zero_out_masked = enable_attention_masks, zero_out_masked
        self.return_attention_masks = return_attention_masks
        self.special_tokens = special_tokens or {"start": 49406, "end": 49407, "pad": 49407}
        self.options_default = (layer, layer_idx, return_projected_pooled)
        self.encoder: Any = None  # NodeFlow's TextEncoder for this tower, when wrapping one

    def _sync(self) -> None:
        if self.encoder is not None:
            self.encoder.layer = self.layer_idx if self.layer == "hidden" else -1

    def set_clip_options(self, options: dict) -> None:
        """``{"layer": index}`` selects a hidden layer (-2 = the one before last), as clip skip does;
        ``{"projected_pooled": bool}`` whether the pooled output is projected."""
        if options.get("layer") is not None:
            self.layer, self.layer_idx = "hidden", options["layer"]
        self.return_projected_pooled = options.get("projected_pooled", self.return_projected_pooled)
        self._sync()

    def reset_clip_options(self) -> None:
        self.layer, self.layer_idx, self.return_projected_pooled = self.options_default
        self._sync()

    def encode_token_weights(self, token_weight_pairs: Any) -> Any:
        raise NotImplementedError(
            "NodeFlow encodes text with the CLIP object (clip.encode / CLIPTextEncode), not with ComfyUI token lists"
        )

    def forward(self, tokens: Any) -> Any:
        return self.encode_token_weights(tokens)


class MultiTowerModel(torch.nn.Module):
    """A text-encoder wrapper of one or more towers; clip options apply to each of ``towers()``."""

    def towers(self) -> list:
        raise NotImplementedError

    def set_clip_options(self, options: dict) -> None:
        for tower in self.towers():
            tower.set_clip_options(options)

    def reset_clip_options(self) -> None:
        for tower in self.towers():
            tower.reset_clip_options()


class SD1ClipModel(MultiTowerModel):
    """A one-tower text encoder (SD1: clip_l); the tower is the attribute ``clip_<clip_name>``."""

    def __init__(
        self,
        device: Any = "cpu",
        dtype: Any = None,
        model_options: dict | None = None,
        clip_name: str = "l",
        clip_model: type = SDClipModel,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.clip_name = clip_name
        self.clip = f"clip_{clip_name}"
        self.lowvram_patch_counter = 0
        setattr(self, self.clip, clip_model(device=device, dtype=dtype, model_options=model_options or {}, **kwargs))
        self.dtypes = {dtype}

    def towers(self) -> list[SDClipModel]:
        return [getattr(self, self.clip)]

    def encode_token_weights(self, token_weight_pairs: Any) -> Any:
        return getattr(self, self.clip).encode_token_weights(token_weight_pairs)


__getattr__ = missing("comfy.sd1_clip")

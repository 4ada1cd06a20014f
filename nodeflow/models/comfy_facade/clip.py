"""ComfyUI's CLIP interface over NodeFlow's CLIP: ``tokenize(text)`` -> ``{"l": chunks, "g": ...}``,
``encode_from_tokens(tokens, return_pooled, return_dict)``, ``encode_from_tokens_scheduled``,
``add_patches`` / ``get_key_patches`` with ComfyUI's weight names (``clip_l.transformer.text_model...``),
``clip_layer``, ``load_model``, ``patcher`` and ``cond_stage_model`` (the towers as one module).
Encoding goes through NodeFlow's own encoder (same weighting, chunks and pooled output as the
CLIPTextEncode node). A token chunk is a list of ``(token id or embedding vector, weight[, word id])``."""

from __future__ import annotations

from typing import Any

import torch

from .keys import clip_keys
from .patcher import ModelPatcherFacade


def tower_key(name: str) -> str:
    """ComfyUI's token-dict key of a tower ("clip_l" -> "l")."""
    return name.removeprefix("clip_")


class TextTower(torch.nn.Module):
    """One tower as ComfyUI code sees it: ``.transformer`` is the Hugging Face text model."""

    def __init__(self, encoder) -> None:
        super().__init__()
        self.transformer = encoder.model.module
        self.layer_idx = encoder.layer
        self.layer = "last" if encoder.layer == -1 else "hidden"


class TextTowers(torch.nn.Module):
    """``clip.cond_stage_model``: the towers as attributes named as ComfyUI names them (clip_l, clip_g ...)."""

    def __init__(self, clip) -> None:
        super().__init__()
        self._clip = [clip]  # a list: not registered as a module
        for enc in clip.encoders:
            setattr(self, enc.name, TextTower(enc))

    def clip_layer(self, layer_idx: int) -> None:
        self._clip[0].set_last_layer(layer_idx)

    def reset_clip_options(self) -> None:
        for enc in self._clip[0].encoders:
            enc.layer = enc.default_layer

    def encode_token_weights(self, token_weight_pairs: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._clip[0].encode_from_tokens(token_weight_pairs, return_pooled=True)


class ClipPatcher(ModelPatcherFacade):
    """``clip.patcher``: the ModelPatcher interface over a CLIP's towers (shares the CLIP's state)."""

    def __init__(self, clip) -> None:
        self.clip = clip
        self.facade_state = clip.facade_state

    def clone(self) -> ClipPatcher:
        return self.clip.clone().patcher

    def _facade_model(self) -> Any:
        return self.clip.cond_stage_model

    def _patch_targets(self) -> dict:
        return {k: (enc.model, name) for k, (enc, name) in clip_keys(self.clip.encoders).items()}

    @property
    def device(self) -> torch.device:
        manager = self.clip.manager
        return manager.text_encoder_device() if manager is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        return next(self.clip.encoders[0].model.module.parameters()).dtype

    def memory_bytes(self) -> int:
        return self.clip.memory_bytes()


class ClipFacade:
    """Mixed into NodeFlow's CLIP (which provides encoders, tokenize(text, encoder), encode_chunks)."""

    @property
    def patcher(self) -> ClipPatcher:
        found = self.__dict__.get("_comfy_patcher")
        if found is None:
            found = self.__dict__["_comfy_patcher"] = ClipPatcher(self)
        return found

    @property
    def cond_stage_model(self) -> TextTowers:
        found = self.__dict__.get("_comfy_towers")
        if found is None:
            found = self.__dict__["_comfy_towers"] = TextTowers(self)
        return found

    @property
    def layer_idx(self) -> int | None:
        layers = {enc.layer for enc in self.encoders}
        return layers.pop() if len(layers) == 1 else None

    def clip_layer(self, layer_idx: int) -> None:
        self.set_last_layer(layer_idx)

    def set_tokenizer_option(self, option_name: str, value: Any) -> None:
        self.tokenizer_options[option_name] = value

    def _comfy_tokenize(self, text: str, return_word_ids: bool = False) -> dict[str, list]:
        find = None
        if self.embedding_directory:
            from ..embeddings import embedding_finder

            find = embedding_finder(list(self.embedding_directory))
        out = {}
        for enc in self.encoders:
            chunks = self.tokenize(text, enc, find)
            if return_word_ids:
                chunks = [[(t, w, 0) for t, w in chunk] for chunk in chunks]
            out[tower_key(enc.name)] = chunks
        return out

    def _chunks_by_tower(self, tokens: dict) -> dict[str, list]:
        by_name = {}
        for key, chunks in tokens.items():
            name = key if key.startswith("clip_") else f"clip_{key}"
            by_name[name] = [[(t[0], float(t[1])) for t in chunk] for chunk in chunks]
        missing = [enc.name for enc in self.encoders if enc.name not in by_name]
        if missing:
            raise ValueError(
                f"tokens have no entry for tower(s) {missing}: tokenize with this CLIP (keys given: {sorted(tokens)})"
            )
        return by_name

    def encode_from_tokens(self, tokens: dict, return_pooled: bool | str = False, return_dict: bool = False):
        """cond [1, 77*chunks, D]; with return_pooled (cond, pooled); with return_dict {"cond", "pooled_output"}."""
        cond, pooled = self.encode_chunks(self._chunks_by_tower(tokens))
        if return_dict:
            return {"cond": cond, "pooled_output": pooled}
        return (cond, pooled) if return_pooled else cond

    def encode_from_tokens_scheduled(
        self, tokens: dict, unprojected_pooled: bool = True, add_dict: dict | None = None, show_pbar: bool = True
    ) -> list:
        """A CONDITIONING list: ``[[cond, {"pooled_output": pooled, **add_dict}]]``."""
        out = self.encode_from_tokens(tokens, return_pooled=True, return_dict=True)
        cond = out.pop("cond")
        out.update(add_dict or {})
        return [[cond, out]]

    def add_patches(self, patches: dict, strength_patch: float = 1.0, strength_model: float = 1.0) -> list:
        return self.patcher.add_patches(patches, strength_patch, strength_model)

    def get_key_patches(self) -> dict:
        return self.patcher.get_key_patches()

    def load_model(self) -> ClipPatcher:
        for enc in self.encoders:
            enc.model.activate()
        return self.patcher

    def get_sd(self) -> dict[str, torch.Tensor]:
        return self.patcher.model_state_dict()

    def load_sd(self, sd: dict, full_model: bool = False) -> tuple[list, list]:
        """Copy ComfyUI-named weights into the towers; returns (missing, unexpected) names."""
        targets = self.patcher._patch_targets()
        unexpected = [k for k in sd if k not in targets]
        with torch.no_grad():
            for key, value in sd.items():
                if key in targets:
                    module, name = targets[key]
                    module.module.get_parameter(name).copy_(value)
        return [k for k in targets if k not in sd], unexpected

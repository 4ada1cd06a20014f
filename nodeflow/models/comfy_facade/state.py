"""What a MODEL (or CLIP) clone carries for ComfyUI code: ``model_options`` (transformer_options,
cfg functions, wrappers), object patches, patcher callbacks, additional models and attachments.
A clone copies it deep enough that changing the clone's options never touches the original (as
ComfyUI's ``ModelPatcher.clone`` and ``create_model_options_clone`` do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def default_model_options() -> dict:
    return {"transformer_options": {}}


def copy_nested(value: Any) -> Any:
    """Dicts and lists copied all the way down; every other value (functions, tensors, objects) shared."""
    if isinstance(value, dict):
        return {k: copy_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_nested(v) for v in value]
    return value


def clone_model_options(options: dict) -> dict:
    """A copy of ``model_options`` whose transformer_options, patch lists, wrappers and callbacks can
    be changed without changing ``options``."""
    out = copy_nested(options)
    out.setdefault("transformer_options", {})
    return out


@dataclass
class FacadeState:
    model_options: dict = field(default_factory=default_model_options)
    object_patches: dict = field(default_factory=dict)  # name -> object (e.g. "model_sampling")
    callbacks: dict = field(default_factory=dict)  # call type -> key -> [fn]
    additional_models: dict = field(default_factory=dict)  # key -> [model]
    attachments: dict = field(default_factory=dict)
    injections: dict = field(default_factory=dict)  # key -> [PatcherInjection]
    devices: dict = field(default_factory=dict)  # "load" / "offload" overrides set by ComfyUI code

    def copy(self) -> FacadeState:
        return FacadeState(
            clone_model_options(self.model_options),
            dict(self.object_patches),
            copy_nested(self.callbacks),
            copy_nested(self.additional_models),
            dict(self.attachments),
            copy_nested(self.injections),
            dict(self.devices),
        )

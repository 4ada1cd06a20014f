"""``comfy.model_patcher``: ``ModelPatcher`` is the ComfyUI name of NodeFlow's MODEL interface.

NodeFlow's DiffusionModel and the CLIP patcher view are registered as (virtual) subclasses, so
``isinstance(model, ModelPatcher)`` holds for every MODEL NodeFlow hands a pack. Constructing
``ModelPatcher(module, load_device, offload_device)`` wraps a pack's own torch module (motion
modules, adapters ...) with the same interface: clone, weight patches under the module's own
state_dict names, model_options, wrappers and callbacks."""

from __future__ import annotations

import copy
from typing import Any

import torch

from nodeflow.models.comfy_facade.clip import ClipPatcher
from nodeflow.models.comfy_facade.patcher import ModelPatcherFacade
from nodeflow.models.comfy_facade.state import FacadeState, clone_model_options
from nodeflow.models.comfy_facade.wrappers import CallbacksMP
from nodeflow.models.diffusion_model import DiffusionModel
from nodeflow.models.patching import PatchedModule


class ModelPatcher(ModelPatcherFacade):
    """A pack's own module with ComfyUI's ModelPatcher interface."""

    def __init__(
        self, model: torch.nn.Module, load_device, offload_device, size: int = 0, weight_inplace_update: bool = False
    ) -> None:
        self._module = model
        self.unet = PatchedModule(model)
        self.facade_state = FacadeState()
        self.facade_state.devices.update(load=torch.device(load_device), offload=torch.device(offload_device))
        self._size = size
        self.weight_inplace_update = weight_inplace_update
        self.parent = None

    @property
    def model(self) -> torch.nn.Module:
        return self._module

    @model.setter
    def model(self, value: torch.nn.Module) -> None:
        self._module = value
        self.unet = PatchedModule(value)

    def _facade_model(self) -> torch.nn.Module:
        return self._module

    def _patch_targets(self) -> dict:
        return {name: (self.unet, name) for name in self._module.state_dict()}

    def clone(self) -> ModelPatcher:
        n = copy.copy(self)
        n.unet = self.unet.clone()
        n.facade_state = self.facade_state.copy()
        n.parent = self
        for callback in self.get_all_callbacks(CallbacksMP.ON_CLONE):
            callback(self, n)
        return n

    @property
    def device(self) -> torch.device:
        return self.facade_state.devices["load"]

    @property
    def dtype(self) -> torch.dtype:
        first = next(iter(self._module.parameters()), None)
        return first.dtype if first is not None else torch.float32

    def memory_bytes(self) -> int:
        if self._size:
            return self._size
        return sum(t.numel() * t.element_size() for t in [*self._module.parameters(), *self._module.buffers()])


for _cls in (DiffusionModel, ClipPatcher):
    ModelPatcher.register(_cls)


def create_model_options_clone(orig_model_options: dict) -> dict:
    return clone_model_options(orig_model_options)


def set_model_options_patch_replace(
    model_options: dict, patch: Any, name: str, block_name: str, number: int, transformer_index: int | None = None
) -> dict:
    """A copy of ``model_options`` with ``patch`` as the replacement of ``name`` at that block."""
    out = clone_model_options(model_options)
    block = (block_name, number) if transformer_index is None else (block_name, number, transformer_index)
    out["transformer_options"].setdefault("patches_replace", {}).setdefault(name, {})[block] = patch
    return out


def set_model_options_post_cfg_function(model_options: dict, post_cfg_function, disable_cfg1_optimization=False):
    model_options["sampler_post_cfg_function"] = [
        *model_options.get("sampler_post_cfg_function", []),
        post_cfg_function,
    ]
    if disable_cfg1_optimization:
        model_options["disable_cfg1_optimization"] = True
    return model_options


def set_model_options_pre_cfg_function(model_options: dict, pre_cfg_function, disable_cfg1_optimization=False):
    model_options["sampler_pre_cfg_function"] = [*model_options.get("sampler_pre_cfg_function", []), pre_cfg_function]
    if disable_cfg1_optimization:
        model_options["disable_cfg1_optimization"] = True
    return model_options


__all__ = [
    "ModelPatcher",
    "create_model_options_clone",
    "set_model_options_patch_replace",
    "set_model_options_post_cfg_function",
    "set_model_options_pre_cfg_function",
]

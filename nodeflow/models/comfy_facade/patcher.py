"""ComfyUI's ModelPatcher interface: weights, devices and objects.

NodeFlow's DiffusionModel inherits ``ModelPatcherFacade`` and so *is* the MODEL ComfyUI code expects:
``clone()`` shares the weights, ``add_patches`` puts ComfyUI patch values (LoRA, merges, diffs) on
this clone as NodeFlow weight patches (undone when another clone runs), ``get_key_patches`` /
``model_state_dict`` use ComfyUI's weight names, ``get_model_object("model_sampling")`` and
``add_object_patch`` reach the parts of ``model.model``. A host provides ``facade_state``,
``clone()``, ``device``, ``dtype``, ``memory_bytes()`` and, when it is not a DiffusionModel,
``_patch_targets()`` and ``_facade_model()``."""

from __future__ import annotations

import abc
from collections import defaultdict
from typing import Any

import torch

from ..patching import Patch, PatchedModule
from .keys import unet_keys
from .patcher_options import PatcherOptions
from .weights import change_of, split_value

COMFY_SOURCE = "ComfyUI add_patches"


class _Original:
    """The convert function of a ``get_key_patches`` entry: it fetches the weight's unpatched value
    when the patch is applied (the tensor in the entry is live: other clones' patches move it)."""

    def __init__(self, module: PatchedModule, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, weight: torch.Tensor, inplace: bool = False, **_: Any) -> torch.Tensor:
        original = ModelPatcherFacade._original(self.module, self.name)
        return original.to(device=weight.device, dtype=weight.dtype, copy=True)


class ModelPatcherFacade(PatcherOptions, abc.ABC):
    # ---- what ComfyUI code reads -------------------------------------------------------------
    def _facade_model(self) -> Any:
        from .base_model import BaseModel

        view = self.__dict__.get("_comfy_view")
        if view is None:
            view = self.__dict__["_comfy_view"] = BaseModel.view_of(self)
        return view

    @property
    def model(self) -> Any:
        """ComfyUI's ``BaseModel`` (a view: ``diffusion_model``, ``model_sampling``, ``latent_format`` ...)."""
        return self._facade_model()

    @property
    def load_device(self) -> torch.device:
        return self.facade_state.devices.get("load") or self.device

    @load_device.setter
    def load_device(self, value: torch.device) -> None:
        self.facade_state.devices["load"] = value

    @property
    def offload_device(self) -> torch.device:
        return self.facade_state.devices.get("offload") or torch.device("cpu")

    @offload_device.setter
    def offload_device(self, value: torch.device) -> None:
        self.facade_state.devices["offload"] = value

    def current_loaded_device(self) -> torch.device:
        return self.load_device

    @property
    def size(self) -> int:
        return self.memory_bytes()

    def model_size(self) -> int:
        return self.memory_bytes()

    def loaded_size(self) -> int:
        return self.memory_bytes()

    def model_dtype(self) -> torch.dtype:
        return self.dtype

    def memory_required(self, input_shape) -> float:
        return self.model.memory_required(input_shape)

    def is_clone(self, other: Any) -> bool:
        mine, theirs = self._modules_of(self), self._modules_of(other)
        return bool(mine) and mine == theirs

    def clone_has_same_weights(self, other: Any) -> bool:
        if not self.is_clone(other):
            return False
        return [m.patches for m in self._patched_modules()] == [m.patches for m in other._patched_modules()]

    @staticmethod
    def _modules_of(obj: Any) -> list[int]:
        try:
            return [id(m.module) for m in obj._patched_modules()]
        except AttributeError:
            return []

    # ---- weights -------------------------------------------------------------------------------
    def _patch_targets(self) -> dict[str, tuple[PatchedModule, str]]:
        """ComfyUI weight name -> (patched module, its state_dict name)."""
        return {k: (self.unet, name) for k, name in unet_keys(self.unet.module).items()}

    def _patched_modules(self) -> list[PatchedModule]:
        seen: dict[int, PatchedModule] = {}
        for module, _ in self._patch_targets().values():
            seen.setdefault(id(module), module)
        return list(seen.values())

    def add_patches(self, patches: dict, strength_patch: float = 1.0, strength_model: float = 1.0) -> list:
        """Put ComfyUI patch values on this clone; returns the keys that name a weight of this model."""
        targets = self._patch_targets()
        added, per_module = [], defaultdict(list)
        for key, value in patches.items():
            name = key[0] if isinstance(key, tuple) else key
            if isinstance(key, tuple) and len(key) > 1 and key[1] is not None:
                raise ValueError(
                    f"patch for {name}: patches of a slice (offset {key[1]}) are not supported by NodeFlow"
                )
            if name not in targets:
                continue
            module, param = targets[name]
            per_module[id(module)].append((module, self._patch(name, param, value, strength_patch, strength_model)))
            added.append(key)
        for entries in per_module.values():
            entries[0][0].add_patches([patch for _, patch in entries])
        return added

    @staticmethod
    def _patch(name: str, param: str, value: Any, strength: float, model_strength: float) -> Patch:
        change = change_of(value, name)
        if change is None:  # "set": the weight becomes the given tensor (0 * weight + 1 * tensor)
            target = split_value(value, name)[1][0]
            return Patch(
                param, 1.0, lambda w: target.to(w.device, torch.float32).reshape(w.shape), COMFY_SOURCE, 0.0, value
            )
        return Patch(param, float(strength), change, COMFY_SOURCE, float(model_strength), value)

    def _patches_by_name(self) -> dict[tuple[int, str], list[Patch]]:
        found: dict[tuple[int, str], list[Patch]] = defaultdict(list)
        for module in self._patched_modules():
            for patch in module.patches:
                found[(id(module), patch.key)].append(patch)
        return found

    @staticmethod
    def _as_entry(patch: Patch) -> tuple:
        value = patch.value if patch.value is not None else ("delta", (patch.delta,))
        return (patch.strength, value, patch.model_strength, None, None)

    @property
    def patches(self) -> dict[str, list[tuple]]:
        """ComfyUI name -> [(strength_patch, value, strength_model, offset, function)] of this clone."""
        by_name = self._patches_by_name()
        out = {}
        for key, (module, param) in self._patch_targets().items():
            found = by_name.get((id(module), param))
            if found:
                out[key] = [self._as_entry(p) for p in found]
        return out

    def model_state_dict(self, filter_prefix: str | None = None) -> dict[str, torch.Tensor]:
        """Every weight under its ComfyUI name, unpatched."""
        out = {}
        for key, (module, param) in self._patch_targets().items():
            if filter_prefix is None or key.startswith(filter_prefix):
                out[key] = self._original(module, param)
        return out

    @staticmethod
    def _original(module: PatchedModule, name: str) -> torch.Tensor:
        try:
            return module.original(name)
        except AttributeError:  # a buffer, never patched
            return module.module.get_buffer(name)

    def get_key_patches(self, filter_prefix: str | None = None) -> dict[str, list]:
        """ComfyUI name -> ``[(original weight, convert), *patch entries]`` (feeds another model's add_patches)."""
        by_name = self._patches_by_name()
        out = {}
        for key, (module, param) in self._patch_targets().items():
            if filter_prefix is not None and not key.startswith(filter_prefix):
                continue
            entries = [self._as_entry(p) for p in by_name.get((id(module), param), [])]
            out[key] = [(self._original(module, param), _Original(module, param)), *entries]
        return out

    def patch_model(
        self,
        device_to=None,
        lowvram_model_memory: int = 0,
        load_weights: bool = True,
        force_patch_weights: bool = False,
    ) -> Any:
        """Write this clone's patches into the shared weights (and move them when asked)."""
        for module in self._patched_modules():
            module.activate()
            if device_to is not None:
                module.module.to(device_to)
        return self.model

    def unpatch_model(self, device_to=None, unpatch_weights: bool = True) -> None:
        for module in self._patched_modules():
            if unpatch_weights:
                module.restore()
            if device_to is not None:
                module.module.to(device_to)

    def model_patches_to(self, device: Any) -> None:
        """ComfyUI moves patch objects with the model; NodeFlow's patches follow the weights."""

    def model_patches_models(self) -> list:
        return []

    # ---- objects -----------------------------------------------------------------------------
    def add_object_patch(self, name: str, obj: Any) -> None:
        self.facade_state.object_patches[name] = obj

    def get_model_object(self, name: str) -> Any:
        """An object patch, else the attribute at the dotted path ``name`` of ``self.model``."""
        if name in self.facade_state.object_patches:
            return self.facade_state.object_patches[name]
        obj = self.model
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj

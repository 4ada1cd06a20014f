"""comfy_extras.nodes_hooks for custom-node packs: the hook nodes (V1 classes as in ComfyUI).

Hooks are built as comfy.hooks data. SetClipHooks applies a group's weight hooks to a CLIP clone
(the text is then encoded with them, as ComfyUI does); hooks attached to conditioning are carried
but NodeFlow's sampler does not apply them per conditioning (see comfy.hooks)."""

from __future__ import annotations

from typing import Any

import comfy.hooks
import torch

from nodeflow.comfy_compat import binding, missing
from nodeflow.comfy_compat.hook_weights import apply_weight_hooks


def _strength(default: float = 1.0) -> tuple:
    return ("FLOAT", {"default": default, "min": -20.0, "max": 20.0, "step": 0.01})


def _files(kind: str) -> list[str]:
    return list(binding.current_folders().list_files(kind))


def _model_path(kind: str, name: str) -> Any:
    return binding.node_context().env.model_path(kind, name)


def _chain(group: comfy.hooks.HookGroup, prev_hooks: comfy.hooks.HookGroup | None) -> tuple:
    return (comfy.hooks.HookGroup.combine_all_hooks([prev_hooks, group]),)


class CreateHookLora:
    """HOOKS applying a LoRA from models/loras."""

    RETURN_TYPES = ("HOOKS",)
    FUNCTION = "create_hook"
    CATEGORY = "advanced/hooks/create"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {"lora_name": (_files("loras"),), "strength_model": _strength(), "strength_clip": _strength()},
            "optional": {"prev_hooks": ("HOOKS",)},
        }

    def create_hook(
        self,
        lora_name: str,
        strength_model: float,
        strength_clip: float,
        prev_hooks: comfy.hooks.HookGroup | None = None,
    ) -> tuple:
        from nodeflow.models.lora import load_lora

        hook = comfy.hooks.WeightHook(strength_model, strength_clip)
        hook.lora = load_lora(_model_path("loras", lora_name))
        group = comfy.hooks.HookGroup()
        group.add(hook)
        return _chain(group, prev_hooks)


class CreateHookLoraModelOnly(CreateHookLora):
    """HOOKS applying a LoRA to the diffusion model only."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {"lora_name": (_files("loras"),), "strength_model": _strength()},
            "optional": {"prev_hooks": ("HOOKS",)},
        }

    def create_hook(
        self, lora_name: str, strength_model: float, prev_hooks: comfy.hooks.HookGroup | None = None
    ) -> tuple:
        return super().create_hook(lora_name, strength_model, 0.0, prev_hooks)


class CreateHookModelAsLora:
    """HOOKS moving the weights towards another checkpoint's (from models/checkpoints)."""

    RETURN_TYPES = ("HOOKS",)
    FUNCTION = "create_hook"
    CATEGORY = "advanced/hooks/create"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "ckpt_name": (_files("checkpoints"),),
                "strength_model": _strength(),
                "strength_clip": _strength(),
            },
            "optional": {"prev_hooks": ("HOOKS",)},
        }

    def create_hook(
        self,
        ckpt_name: str,
        strength_model: float,
        strength_clip: float,
        prev_hooks: comfy.hooks.HookGroup | None = None,
    ) -> tuple:
        from nodeflow.comfy_compat.v1_wrappers import run_builtin
        from nodeflow.nodes.sd_loaders import CheckpointLoaderSimple

        model, clip, _ = run_builtin(CheckpointLoaderSimple, {"ckpt_name": ckpt_name})

        def copy(module):
            return {k: v.detach().clone() for k, v in module.state_dict().items()}

        weights_clip = {enc.name: copy(enc.model.module) for enc in clip.encoders} if clip is not None else None
        group = comfy.hooks.create_hook_model_as_lora(
            copy(model.unet.module), weights_clip, strength_model, strength_clip
        )
        return _chain(group, prev_hooks)


class SetClipHooks:
    """A CLIP clone that encodes with the hooks' weights (and, with apply_to_conds, remembers them)."""

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "apply_hooks"
    CATEGORY = "advanced/hooks/clip"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "clip": ("CLIP",),
                "apply_to_conds": ("BOOLEAN", {"default": True}),
                "schedule_clip": ("BOOLEAN", {"default": False}),
            },
            "optional": {"hooks": ("HOOKS",)},
        }

    def apply_hooks(
        self, clip: Any, schedule_clip: bool, apply_to_conds: bool, hooks: comfy.hooks.HookGroup | None = None
    ) -> tuple:
        if hooks is None:
            return (clip,)
        forced = hooks.clone()
        if not schedule_clip:
            forced.set_keyframes_on_hooks(None)  # full strength while encoding
        _, clip = apply_weight_hooks(None, clip, forced, "SetClipHooks")
        if apply_to_conds:
            clip.apply_hooks_to_conds = hooks
        return (clip,)


class CombineHooks:
    """Two HOOKS groups as one."""

    RETURN_TYPES = ("HOOKS",)
    FUNCTION = "combine_hooks"
    CATEGORY = "advanced/hooks/combine"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {}, "optional": {"hooks_A": ("HOOKS",), "hooks_B": ("HOOKS",)}}

    def combine_hooks(self, hooks_A: Any = None, hooks_B: Any = None) -> tuple:
        return (comfy.hooks.HookGroup.combine_all_hooks([hooks_A, hooks_B]),)


class CreateHookKeyframe:
    """A keyframe: hook strength x ``strength_mult`` from ``start_percent`` of sampling on."""

    RETURN_TYPES = ("HOOK_KEYFRAMES",)
    RETURN_NAMES = ("HOOK_KF",)
    FUNCTION = "create_hook_keyframe"
    CATEGORY = "advanced/hooks/scheduling"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "strength_mult": _strength(),
                "start_percent": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}),
            },
            "optional": {"prev_hook_kf": ("HOOK_KEYFRAMES",)},
        }

    def create_hook_keyframe(self, strength_mult: float, start_percent: float, prev_hook_kf: Any = None) -> tuple:
        group = prev_hook_kf.clone() if prev_hook_kf is not None else comfy.hooks.HookKeyframeGroup()
        group.add(comfy.hooks.HookKeyframe(strength_mult, start_percent))
        return (group,)


class SetHookKeyframes:
    """HOOKS whose hooks follow the given keyframes."""

    RETURN_TYPES = ("HOOKS",)
    FUNCTION = "set_hook_keyframes"
    CATEGORY = "advanced/hooks/scheduling"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"hooks": ("HOOKS",)}, "optional": {"hook_kf": ("HOOK_KEYFRAMES",)}}

    def set_hook_keyframes(self, hooks: comfy.hooks.HookGroup, hook_kf: Any = None) -> tuple:
        if hook_kf is not None:
            hooks = hooks.clone()
            hooks.set_keyframes_on_hooks(hook_kf)
        return (hooks,)


class ConditioningSetProperties:
    """Conditioning with strength/mask/area mode, hooks and timestep range set."""

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "set_properties"
    CATEGORY = "advanced/hooks/cond single"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {
            "required": {
                "cond_NEW": ("CONDITIONING",),
                "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}),
                "set_cond_area": (["default", "mask bounds"],),
            },
            "optional": {"mask": ("MASK",), "hooks": ("HOOKS",), "timesteps": ("TIMESTEPS_RANGE",)},
        }

    def set_properties(
        self,
        cond_NEW: list,
        strength: float,
        set_cond_area: str,
        mask: torch.Tensor | None = None,
        hooks: Any = None,
        timesteps: tuple | None = None,
    ) -> tuple:
        (out,) = comfy.hooks.set_conds_props([cond_NEW], strength, set_cond_area, mask, hooks, timesteps)
        return (out,)


__getattr__ = missing("comfy_extras.nodes_hooks")

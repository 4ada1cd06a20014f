"""comfy.hooks for custom-node packs: hooks (LoRA-style weight changes, keyframed strength) attached
to conditioning, and the helpers that set conditioning properties.

Hooks and keyframes are data here, as in ComfyUI. What NodeFlow applies: weight hooks on a CLIP
(SetClipHooks) and explicit application with ``nodeflow.comfy_compat.hook_weights``. NodeFlow's
sampler does not switch weights per conditioning, so a ``hooks`` entry on a conditioning is carried
but not applied during sampling."""

from __future__ import annotations

import enum
from typing import Any

import torch

from nodeflow.comfy_compat import missing


class EnumHookMode(enum.Enum):
    MinVram = "minvram"
    MaxSpeed = "maxspeed"


class EnumHookType(enum.Enum):
    Weight = "weight"
    ObjectPatch = "object_patch"
    AdditionalModels = "add_models"
    TransformerOptions = "transformer_options"
    Injections = "add_injections"


class EnumWeightTarget(enum.Enum):
    Model = "model"
    Clip = "clip"


class EnumHookScope(enum.Enum):
    AllConditioning = "all_conditioning"
    HookedOnly = "hooked_only"


class _HookRef:
    """Identity of a hook: clones share it and compare equal."""


class HookKeyframe:
    """Strength ``strength`` from ``start_percent`` of sampling on, held at least ``guarantee_steps``."""

    def __init__(self, strength: float, start_percent: float = 0.0, guarantee_steps: int = 1) -> None:
        self.strength, self.start_percent, self.guarantee_steps = strength, float(start_percent), guarantee_steps
        self.start_t = 999999999.9  # the sigma where it starts, set by initialize_timesteps

    def get_effective_guarantee_steps(self, max_sigma: float) -> int:
        return 0 if self.start_t > max_sigma else self.guarantee_steps

    def clone(self) -> HookKeyframe:
        c = HookKeyframe(self.strength, self.start_percent, self.guarantee_steps)
        c.start_t = self.start_t
        return c


class HookKeyframeGroup:
    """Keyframes ordered by start_percent; ``strength`` is the current one's (1.0 without any)."""

    def __init__(self) -> None:
        self.keyframes: list[HookKeyframe] = []
        self.reset()

    def reset(self) -> None:
        self._current_keyframe: HookKeyframe | None = None
        self._current_used_steps = 0
        self._current_index = 0
        self._current_strength: float | None = None
        self._curr_t = -1.0

    def add(self, keyframe: HookKeyframe) -> None:
        self.keyframes.append(keyframe)
        self.keyframes.sort(key=lambda k: k.start_percent)
        self.reset()

    def get_effective_guarantee_steps(self, max_sigma: float) -> int:
        return sum(k.get_effective_guarantee_steps(max_sigma) for k in self.keyframes)

    def has_guarantee_steps(self) -> bool:
        return any(k.guarantee_steps > 0 for k in self.keyframes)

    def has_index(self, index: int) -> bool:
        return 0 <= index < len(self.keyframes)

    def is_empty(self) -> bool:
        return not self.keyframes

    def clone(self) -> HookKeyframeGroup:
        c = HookKeyframeGroup()
        c.keyframes = [k.clone() for k in self.keyframes]
        return c

    def initialize_timesteps(self, model: Any) -> None:
        """Turn each keyframe's start_percent into a sigma with the model's schedule."""
        sampling = getattr(model, "model_sampling", None) or getattr(model, "schedule", None)
        if sampling is None and hasattr(model, "model"):
            sampling = getattr(model.model, "model_sampling", None)
        for k in self.keyframes:
            k.start_t = float(sampling.percent_to_sigma(k.start_percent))

    def prepare_current_keyframe(self, curr_t: float, transformer_options: dict | None = None) -> bool:
        """Advance to the keyframe in force at sigma ``curr_t`` (keeping the current one for its
        guarantee steps); True when the strength changed."""
        if self.is_empty() or curr_t == self._curr_t:
            return False
        self._curr_t = curr_t
        previous = self._current_strength
        if self._current_keyframe is None:
            self._current_keyframe, self._current_index, self._current_used_steps = self.keyframes[0], 0, 0
        self._current_used_steps += 1
        while self.has_index(self._current_index + 1):
            nxt = self.keyframes[self._current_index + 1]
            if nxt.start_t < curr_t or self._current_used_steps <= self._current_keyframe.guarantee_steps - 1:
                break
            self._current_index += 1
            self._current_keyframe, self._current_used_steps = nxt, 1
        self._current_strength = self._current_keyframe.strength
        return self._current_strength != previous

    @property
    def strength(self) -> float:
        return self._current_strength if self._current_strength is not None else 1.0


class Hook:
    """Base of the hook kinds; equal when they share a hook_ref (clones do)."""

    def __init__(
        self,
        hook_type: EnumHookType = EnumHookType.Weight,
        hook_ref: _HookRef | None = None,
        hook_id: str | None = None,
        hook_keyframe: HookKeyframeGroup | None = None,
        hook_scope: EnumHookScope = EnumHookScope.AllConditioning,
    ) -> None:
        self.hook_type, self.hook_ref = hook_type, hook_ref or _HookRef()
        self.hook_id, self.hook_scope = hook_id, hook_scope
        self.hook_keyframe = hook_keyframe or HookKeyframeGroup()

    @property
    def strength(self) -> float:
        return self.hook_keyframe.strength

    def initialize_timesteps(self, model: Any) -> None:
        self.reset()
        self.hook_keyframe.initialize_timesteps(model)

    def reset(self) -> None:
        self.hook_keyframe.reset()

    def clone(self) -> Hook:
        c = object.__new__(type(self))
        c.__dict__.update(self.__dict__)
        return c

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hook) and other.hook_ref is self.hook_ref

    def __hash__(self) -> int:
        return hash(self.hook_ref)


class WeightHook(Hook):
    """Weight changes with their own model and clip strengths (times the keyframe strength).
    ``lora`` holds a LoRA grouped by nodeflow.models.lora.group_lora; ``weights``/``weights_clip``
    hold full weights for a checkpoint used as a LoRA (``model_as_lora``)."""

    def __init__(self, strength_model: float = 1.0, strength_clip: float = 1.0) -> None:
        super().__init__(EnumHookType.Weight)
        self._strength_model, self._strength_clip = strength_model, strength_clip
        self.weights: dict | None = None
        self.weights_clip: dict | None = None
        self.lora: dict | None = None
        self.model_as_lora = False
        self.need_weight_init = True

    @property
    def strength_model(self) -> float:
        return self._strength_model * self.strength

    @property
    def strength_clip(self) -> float:
        return self._strength_clip * self.strength


class HookGroup:
    """An ordered set of hooks attached to conditioning or a CLIP."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []

    def add(self, hook: Hook) -> None:
        if hook not in self.hooks:
            self.hooks.append(hook)

    def contains(self, hook: Hook) -> bool:
        return hook in self.hooks

    def get_type(self, hook_type: EnumHookType) -> list[Hook]:
        return [h for h in self.hooks if h.hook_type == hook_type]

    def clone(self) -> HookGroup:
        c = HookGroup()
        for hook in self.hooks:
            c.add(hook.clone())
        return c

    def clone_and_combine(self, other: HookGroup) -> HookGroup:
        c = self.clone()
        for hook in other.hooks:
            c.add(hook.clone())
        return c

    def set_keyframes_on_hooks(self, hook_kf: HookKeyframeGroup | None) -> None:
        hook_kf = hook_kf.clone() if hook_kf is not None else HookKeyframeGroup()
        for hook in self.hooks:
            hook.hook_keyframe = hook_kf

    def reset(self) -> None:
        for hook in self.hooks:
            hook.reset()

    def __len__(self) -> int:
        return len(self.hooks)

    @staticmethod
    def combine_all_hooks(hooks_list: list[HookGroup | None], require_count: int = 0) -> HookGroup | None:
        """One group holding the hooks of every group in ``hooks_list`` (None entries skipped);
        None when there are none; an error when fewer than ``require_count`` groups are given."""
        groups = [g for g in hooks_list if g is not None]
        if len(groups) < require_count:
            raise ValueError(f"need at least {require_count} hook groups to combine, got {len(groups)}")
        if not groups:
            return None
        if len(groups) == 1:
            return groups[0]
        combined = groups[0].clone()
        for group in groups[1:]:
            combined = combined.clone_and_combine(group)
        return combined


def create_hook_lora(lora: dict[str, torch.Tensor], strength_model: float, strength_clip: float) -> HookGroup:
    """A hook group with one WeightHook carrying the LoRA state dict ``lora``."""
    from nodeflow.models.lora import group_lora

    hook = WeightHook(strength_model, strength_clip)
    hook.lora = group_lora(lora)
    group = HookGroup()
    group.add(hook)
    return group


def create_hook_model_as_lora(
    weights_model: dict | None, weights_clip: dict | None, strength_model: float, strength_clip: float
) -> HookGroup:
    """A hook group whose WeightHook moves weights towards another checkpoint's (``weights_model``:
    diffusion-model state dict; ``weights_clip``: {text tower name: state dict})."""
    hook = WeightHook(strength_model, strength_clip)
    hook.weights, hook.weights_clip, hook.model_as_lora = weights_model, weights_clip, True
    group = HookGroup()
    group.add(hook)
    return group


def load_hook_lora_for_models(
    model: Any, clip: Any, lora: dict[str, torch.Tensor], strength_model: float, strength_clip: float
) -> tuple:
    """(model clone, clip clone, hook group): the LoRA as a hook instead of patched weights."""
    group = create_hook_lora(lora, strength_model, strength_clip)
    return (model.clone() if model is not None else None, clip.clone() if clip is not None else None, group)


from .hooks_conditioning import (  # noqa: E402  (the conditioning helpers use the classes above)
    combine_conditioning,
    combine_with_new_conds,
    conditioning_set_values,
    set_conds_props,
    set_conds_props_and_combine,
    set_default_conds_and_combine,
    set_hooks_for_conditioning,
    set_mask_for_conditioning,
    set_timesteps_for_conditioning,
)

__all__ = [
    "EnumHookMode",
    "EnumHookScope",
    "EnumHookType",
    "EnumWeightTarget",
    "Hook",
    "HookGroup",
    "HookKeyframe",
    "HookKeyframeGroup",
    "WeightHook",
    "combine_conditioning",
    "combine_with_new_conds",
    "conditioning_set_values",
    "create_hook_lora",
    "create_hook_model_as_lora",
    "load_hook_lora_for_models",
    "set_conds_props",
    "set_conds_props_and_combine",
    "set_default_conds_and_combine",
    "set_hooks_for_conditioning",
    "set_mask_for_conditioning",
    "set_timesteps_for_conditioning",
]

__getattr__ = missing("comfy.hooks")

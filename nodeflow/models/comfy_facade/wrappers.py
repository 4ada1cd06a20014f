"""ComfyUI's wrapper and callback protocol, as data in ``transformer_options``.

A wrapper registered for a point (``"apply_model"``, ``"outer_sample"`` ...) is called as
``wrapper(executor, *args, **kwargs)`` and continues the chain with ``executor(*args, **kwargs)``
(or ``executor.execute``); the first registered wrapper is the outermost. Wrappers live in
``transformer_options["wrappers"][point][key] = [fn, ...]``; callbacks the same way under
``"callbacks"`` (the patcher's own callbacks live on the patcher)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class WrappersMP:
    OUTER_SAMPLE = "outer_sample"
    PREPARE_SAMPLING = "prepare_sampling"
    SAMPLER_SAMPLE = "sampler_sample"
    PREDICT_NOISE = "predict_noise"
    CALC_COND_BATCH = "calc_cond_batch"
    APPLY_MODEL = "apply_model"
    DIFFUSION_MODEL = "diffusion_model"


class CallbacksMP:
    ON_CLONE = "on_clone"
    ON_LOAD = "on_load_after"
    ON_DETACH = "on_detach_after"
    ON_CLEANUP = "on_cleanup"
    ON_PRE_RUN = "on_pre_run"
    ON_PREPARE_STATE = "on_prepare_state"
    ON_APPLY_HOOKS = "on_apply_hooks"
    ON_REGISTER_ALL_HOOK_PATCHES = "on_register_all_hook_patches"
    ON_INJECT_MODEL = "on_inject_model"
    ON_EJECT_MODEL = "on_eject_model"


class WrapperExecutor:
    """One link of a wrapper chain: calling it runs the next wrapper, or finally ``original``."""

    def __init__(self, original: Callable, class_obj: Any, wrappers: list[Callable], idx: int) -> None:
        self.original = original
        self.class_obj = class_obj
        self.wrappers = list(wrappers)
        self.idx = idx

    @property
    def is_last(self) -> bool:
        return self.idx >= len(self.wrappers)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.execute(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_last:
            return self.original(*args, **kwargs)
        following = WrapperExecutor(self.original, self.class_obj, self.wrappers, self.idx + 1)
        return self.wrappers[self.idx](following, *args, **kwargs)

    @classmethod
    def new_executor(cls, original: Callable, wrappers: list[Callable], idx: int = 0) -> WrapperExecutor:
        return cls(original, None, wrappers, idx)

    @classmethod
    def new_class_executor(
        cls, original: Callable, class_obj: Any, wrappers: list[Callable], idx: int = 0
    ) -> WrapperExecutor:
        return cls(original, class_obj, wrappers, idx)


def _section(options: dict, section: str, is_model_options: bool) -> dict:
    if is_model_options:
        options = options.setdefault("transformer_options", {})
    return options.setdefault(section, {})


def add_wrapper_with_key(
    wrapper_type: str, key: str, wrapper: Callable, transformer_options: dict, is_model_options: bool = False
) -> None:
    _section(transformer_options, "wrappers", is_model_options).setdefault(wrapper_type, {}).setdefault(key, []).append(
        wrapper
    )


def add_callback_with_key(
    call_type: str, key: str, callback: Callable, transformer_options: dict, is_model_options: bool = False
) -> None:
    _section(transformer_options, "callbacks", is_model_options).setdefault(call_type, {}).setdefault(key, []).append(
        callback
    )


def _all(section: str, kind: str, options: dict | None, is_model_options: bool) -> list:
    if not options:
        return []
    if is_model_options:
        options = options.get("transformer_options", {})
    found: list = []
    for fns in options.get(section, {}).get(kind, {}).values():
        found.extend(fns)
    return found


def get_all_wrappers(
    wrapper_type: str, transformer_options: dict | None, is_model_options: bool = False
) -> list[Callable]:
    return _all("wrappers", wrapper_type, transformer_options, is_model_options)


def get_all_callbacks(
    call_type: str, transformer_options: dict | None, is_model_options: bool = False
) -> list[Callable]:
    return _all("callbacks", call_type, transformer_options, is_model_options)


def run_wrapped(
    point: str,
    original: Callable,
    class_obj: Any,
    options: dict | None,
    *args: Any,
    is_model_options: bool = False,
    **kwargs: Any,
) -> Any:
    """``original(*args, **kwargs)`` through the wrappers registered for ``point``."""
    wrappers = get_all_wrappers(point, options, is_model_options)
    if not wrappers:
        return original(*args, **kwargs)
    return WrapperExecutor.new_class_executor(original, class_obj, wrappers).execute(*args, **kwargs)

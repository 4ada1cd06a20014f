"""ComfyUI's ``comfy.patcher_extension`` for custom-node packs, on NodeFlow: wrapper and callback
points, the wrapper chain, and helpers for transformer_options dicts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nodeflow.comfy_compat import missing
from nodeflow.models.comfy_facade.state import copy_nested
from nodeflow.models.comfy_facade.wrappers import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    CallbacksMP,
    WrapperExecutor,
    WrappersMP,
    add_callback_with_key,
    add_wrapper_with_key,
    get_all_callbacks,
    get_all_wrappers,
)


def add_wrapper(
    wrapper_type: str, wrapper: Callable, transformer_options: dict, is_model_options: bool = False
) -> None:
    add_wrapper_with_key(wrapper_type, None, wrapper, transformer_options, is_model_options)


def add_callback(call_type: str, callback: Callable, transformer_options: dict, is_model_options: bool = False) -> None:
    add_callback_with_key(call_type, None, callback, transformer_options, is_model_options)


def merge_nested_dicts(dict1: dict, dict2: dict, copy_dict1: bool = True) -> dict:
    """``dict1`` with ``dict2`` merged in: nested dicts merged, lists concatenated, other values replaced."""
    merged = copy_nested(dict1) if copy_dict1 else dict1
    for key, value in dict2.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merge_nested_dicts(merged[key], value, copy_dict1=False)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + value
        else:
            merged[key] = copy_nested(value)
    return merged


def copy_nested_dicts(input_dict: dict) -> dict:
    return copy_nested(input_dict)


@dataclass
class PatcherInjection:
    """A pair of callables run when a patcher's model is loaded (inject) and unloaded (eject)."""

    inject: Callable
    eject: Callable


__getattr__ = missing("comfy.patcher_extension")

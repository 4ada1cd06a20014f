"""What the ComfyUI API modules are bound to: the runtime's folders, model manager and node
registry. ComfyUI keeps these as module globals of ``folder_paths``, ``nodes`` and
``comfy.model_management``; here they live in one place, set by ``nodeflow.runtime`` before packs
import (``bind``) and announced again once they have (``refresh``), so the modules can rebuild
their module-level views (``folder_paths.models_dir``, ``nodes.NODE_CLASS_MAPPINGS``, ...).

Torch-free: the server imports ``server_binding`` beside this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Bound:
    env: Any = None  # nodeflow.folders.Folders
    models: Any = None  # nodeflow.models.manager.ModelManager, or None
    registry: Any = None  # nodeflow.schema.registry.Registry
    custom_node_folders: tuple[Path, ...] = ()
    cli: dict = field(default_factory=dict)  # server flags under ComfyUI's names (listen, port, ...)


_BOUND = Bound()
_LISTENERS: list[Callable[[Bound], None]] = []
_LOCK = threading.Lock()


def bind(env: Any, models: Any = None, registry: Any = None, custom_node_folders: tuple[Path, ...] = ()) -> None:
    """Point the ComfyUI modules at this runtime (the last runtime built wins, as ComfyUI has one)
    and make them importable."""
    from nodeflow.comfy_compat import install

    install()
    with _LOCK:
        _BOUND.env, _BOUND.models, _BOUND.registry = env, models, registry
        _BOUND.custom_node_folders = tuple(custom_node_folders)
    refresh()


def set_cli(**flags: Any) -> None:
    """Server flags packs may read from ``comfy.cli_args.args`` (main.py: listen, port, ...)."""
    _BOUND.cli.update(flags)
    refresh()


def refresh() -> None:
    """Tell every ComfyUI module that the bound runtime changed (e.g. packs added nodes)."""
    for listener in _LISTENERS:
        try:
            listener(_BOUND)
        except Exception:  # one module's view failing must not stop the others
            log.exception("ComfyUI compatibility module failed to refresh")


def on_bind(listener: Callable[[Bound], None]) -> None:
    """Call ``listener(bound)`` now and after every ``bind`` / ``refresh``."""
    _LISTENERS.append(listener)
    listener(_BOUND)


def bound() -> Bound:
    return _BOUND


def folders() -> Any:
    """The bound Folders; outside a runtime (a script importing a pack's module), NodeFlow's own
    checkout folders, as ComfyUI's modules default to the ComfyUI checkout."""
    if _BOUND.env is None:
        from nodeflow.folders import Folders

        with _LOCK:
            if _BOUND.env is None:
                _BOUND.env = Folders(REPO_ROOT)
    return _BOUND.env


def current_folders() -> Any:
    """The running node's folders, else the bound ones."""
    from nodeflow.engine.context import current_context

    env = getattr(current_context(), "env", None)
    return env if env is not None else folders()


def registry() -> Any:
    """The bound node registry; the built-in nodes alone outside a runtime."""
    if _BOUND.registry is None:
        from nodeflow.schema.registry import builtin_registry

        with _LOCK:
            if _BOUND.registry is None:
                _BOUND.registry = builtin_registry()
    return _BOUND.registry


def node_context() -> Any:
    """The running node's ExecutionContext, or a detached one (no events, never interrupted) with
    the bound folders and model manager, for calls made outside any node."""
    from nodeflow.engine.context import ExecutionContext, current_context

    ctx = current_context()
    if ctx is not None:
        return ctx
    return ExecutionContext("", "", lambda event, data: None, threading.Event(), env=folders(), models=_BOUND.models)

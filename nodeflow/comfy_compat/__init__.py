"""ComfyUI's Python API for custom-node packs, mapped onto NodeFlow's own objects.

Packs written for ComfyUI import ``folder_paths``, ``nodes``, ``server``, ``node_helpers``,
``latent_preview``, ``execution``, ``comfy.*``, ``comfy_api.*``, ``comfy_extras.*`` and
``comfy_execution.*`` as top-level modules. Those modules live in ``modules/`` beside this file,
written for NodeFlow (no ComfyUI code): ``install()`` puts that folder at the end of ``sys.path``
before packs are imported, so a real installed package of the same name would win.

A symbol a pack needs that NodeFlow does not provide fails that pack's import (or the call) with
a message naming the module and the symbol: see ``missing``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

MODULES_DIR = Path(__file__).resolve().parent / "modules"


def install() -> None:
    """Make the ComfyUI API modules importable (idempotent)."""
    path = str(MODULES_DIR)
    if path not in sys.path:
        sys.path.append(path)


SHIM_PACKAGES = ("comfy", "comfy_api", "comfy_extras", "comfy_execution")


class MissingComfySymbol(AttributeError):
    """A ComfyUI API symbol NodeFlow does not provide (yet)."""


def missing(module: str):
    """A module-level ``__getattr__`` for a shim module: unknown names raise an error that names
    the symbol and says it is ComfyUI API NodeFlow lacks, instead of a bare AttributeError."""

    def __getattr__(name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise MissingComfySymbol(
            f"{module}.{name} is ComfyUI API that NodeFlow does not provide; "
            "the custom-node pack needs it (see docs/plugins.md, compatibility table)"
        )

    return __getattr__


def package_getattr(package: str):
    """``__getattr__`` for a shim package: ``comfy.utils`` after a bare ``import comfy`` imports the
    submodule (in ComfyUI some other module always has); names that are no submodule are missing."""
    fallback = missing(package)

    def __getattr__(name: str):
        if not (name.startswith("__") and name.endswith("__")):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
        return fallback(name)

    return __getattr__


def explain_import_error(exc: BaseException) -> str | None:
    """What a pack's failed import lacks, when it is ComfyUI API: ``from comfy.utils import x``
    (Python reports only "cannot import name") or a ComfyUI module NodeFlow has no shim for."""
    if not isinstance(exc, ImportError) or not exc.name:
        return None
    if isinstance(exc, ModuleNotFoundError):
        if exc.name.split(".")[0] in SHIM_PACKAGES:
            return (
                f"{exc.name} is a ComfyUI module that NodeFlow does not provide; the custom-node pack "
                "needs it (see docs/plugins.md, compatibility table)"
            )
        return None
    module = sys.modules.get(exc.name)
    found = re.match(r"cannot import name '([^']+)'", str(exc))
    if found and str(getattr(module, "__file__", "") or "").startswith(str(MODULES_DIR)):
        return (
            f"{exc.name}.{found.group(1)} is ComfyUI API that NodeFlow does not provide; the custom-node "
            "pack needs it (see docs/plugins.md, compatibility table)"
        )
    return None

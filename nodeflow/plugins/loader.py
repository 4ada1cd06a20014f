"""Find and import plugin packs from custom_nodes/ folders without letting one break the rest.

A pack is a single ``.py`` module or a package folder. Names ending ``.disabled`` and hidden or
cache folders are skipped. Each pack is imported alone; whatever it raises (syntax errors,
missing dependencies, exceptions, even SystemExit) is caught and reported in its status. A
pack's nodes can never replace a built-in node or an earlier pack's node: the first one wins and
the clash is reported.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.comfy_compat import explain_import_error
from nodeflow.schema.node import Node
from nodeflow.schema.registry import NameClash, Registry
from nodeflow.schema.spec import spec_from_node_class

from .comfy_v3 import spec_from_comfy, specs_from_entrypoint

log = logging.getLogger(__name__)
SLOW_IMPORT_SECONDS = 5.0


@dataclass
class PackStatus:
    name: str
    path: str
    ok: bool = False
    error: str | None = None
    import_seconds: float = 0.0
    nodes: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    web_directory: str | None = None
    scripts: list[str] = field(default_factory=list)
    kind: str = "native"  # "native" | "comfy_v1" | "comfy_v3" (nodes from comfy_entrypoint)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def discover(folders: list[Path]) -> list[tuple[str, Path]]:
    """(pack name, path) for every pack in ``folders``, in name order, first folder first."""
    found, seen = [], set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            name = entry.name
            if name.startswith((".", "_")) or name.endswith(".disabled"):
                continue
            if entry.is_file() and name.endswith(".py"):
                pack = name[:-3]
            elif entry.is_dir() and (entry / "__init__.py").exists():
                pack = name
            else:
                continue
            if pack not in seen:
                seen.add(pack)
                found.append((pack, entry))
    return found


def _import(pack: str, path: Path) -> Any:
    module_name = f"custom_nodes.{pack}"
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            module_name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _native_nodes(module: Any) -> list[type]:
    listed = getattr(module, "NODES", None)
    if listed is not None:
        return list(listed)
    return [
        v
        for v in vars(module).values()
        if inspect.isclass(v) and issubclass(v, Node) and v is not Node and v.__module__.startswith(module.__name__)
    ]


def _register(registry: Registry, status: PackStatus, specs: list) -> None:
    for spec in specs:
        try:
            registry.add(spec)
            status.nodes.append(spec.name)
        except NameClash as exc:
            status.clashes.append(str(exc))
            log.warning("plugin %s: %s", status.name, exc)


def load_pack(registry: Registry, pack: str, path: Path) -> PackStatus:
    status = PackStatus(name=pack, path=str(path))
    start = time.perf_counter()
    try:
        module = _import(pack, path)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        status.import_seconds = round(time.perf_counter() - start, 3)
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        explained = explain_import_error(exc)  # ComfyUI API the pack needs and NodeFlow lacks
        status.error = (f"{explained}\n" if explained else "") + f"{type(exc).__name__}: {exc}\n" + "".join(lines[-3:])
        log.error("plugin %s failed to import: %s: %s", pack, type(exc).__name__, exc)
        return status
    status.import_seconds = round(time.perf_counter() - start, 3)
    if status.import_seconds > SLOW_IMPORT_SECONDS:
        status.warnings.append(f"slow import: {status.import_seconds:.1f} s (over {SLOW_IMPORT_SECONDS:.0f} s)")
    specs = []
    try:
        mappings = getattr(module, "NODE_CLASS_MAPPINGS", None)
        if isinstance(mappings, dict):
            status.kind = "comfy_v1"
            display = getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", {}) or {}
            for name, cls in mappings.items():
                try:
                    specs.append(spec_from_comfy(cls, name, display.get(name), pack))
                except Exception as exc:  # one broken class: report it, load the others
                    status.warnings.append(f"node {name} skipped: {exc}")
        entrypoint = getattr(module, "comfy_entrypoint", None)
        if callable(entrypoint):  # a ComfyUI V3 pack: an async function returning a ComfyExtension
            status.kind = "comfy_v3"
            found, skipped = specs_from_entrypoint(entrypoint, pack)
            specs += found
            status.warnings += skipped
        for cls in _native_nodes(module):
            specs.append(spec_from_node_class(cls, pack))
    except Exception as exc:
        status.error = f"reading the pack's nodes failed: {type(exc).__name__}: {exc}"
        return status
    _register(registry, status, specs)
    web = getattr(module, "WEB_DIRECTORY", None)
    base = path if path.is_dir() else path.parent
    if isinstance(web, str) and (base / web).is_dir():
        web_dir = (base / web).resolve()
        if base.resolve() in web_dir.parents or web_dir == base.resolve():
            status.web_directory = str(web_dir)
            status.scripts = [
                f"/extensions/{pack}/{p.relative_to(web_dir).as_posix()}" for p in sorted(web_dir.rglob("*.js"))
            ]
        else:
            status.warnings.append("WEB_DIRECTORY points outside the pack; not served")
    status.ok = True
    return status


def load_plugins(registry: Registry, folders: list[Path], whitelist: list[str] | None = None) -> list[PackStatus]:
    """Import every pack (or only ``whitelist``); returns one status per pack found."""
    from nodeflow.comfy_compat import install

    install()  # ComfyUI's module names (folder_paths, comfy.*, nodes, server, ...) for V1/V3 packs
    statuses = []
    for pack, path in discover(folders):
        if whitelist is not None and pack not in whitelist:
            continue
        statuses.append(load_pack(registry, pack, path))
    return statuses

"""Assemble a runnable NodeFlow: folders, node registry (built-ins + plugins), model manager
and engine. Shared by the server's main.py and the headless CLI."""

from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.engine.executor import Engine
from nodeflow.folders import Folders
from nodeflow.models.precision import Precision
from nodeflow.schema.registry import Registry, builtin_registry

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_WEIGHTS = Path(__file__).resolve().parent / "demo" / "weights"
DEMO_KINDS = ("checkpoints", "prompt_expanders", "upscale_models", "unet")


@dataclass
class Runtime:
    env: Folders
    registry: Registry
    engine: Engine
    models: Any = None
    plugin_status: list = field(default_factory=list)


def _model_manager(cpu: bool, lowvram: bool, precision: Precision, plain_kernels: bool = False) -> Any:
    manager_mod = importlib.import_module("nodeflow.models.manager")
    return manager_mod.ModelManager(cpu=cpu, lowvram=lowvram, plain_kernels=plain_kernels, **precision.manager_kwargs())


def _extra_model_paths(base: Path, files: list[str] | None) -> dict[str, list[str]]:
    candidates = [Path(f) for f in (files or [])] or [base / "extra_model_paths.yaml"]
    merged: dict[str, list[str]] = {}
    for path in candidates:
        if not path.exists():
            continue
        parse = importlib.import_module("nodeflow.models.extra_paths").load_extra_model_paths
        try:
            found = parse(path)
        except ValueError as exc:  # a broken config is reported; NodeFlow starts without it
            log.error("ignoring %s", exc)
            continue
        for kind, paths in found.items():
            merged.setdefault(kind, []).extend(paths)
    return merged


def build_runtime(
    base_directory: str | Path | None = None,
    *,
    cpu: bool = False,
    lowvram: bool = False,
    force_fp16: bool = False,
    precision: Precision | dict | None = None,
    plain_kernels: bool = False,
    cache_ram_gb: float = 4.0,
    cache_enabled: bool = True,
    extra_model_paths: list[str] | None = None,
    custom_nodes: bool = True,
    custom_node_whitelist: list[str] | None = None,
    extra_node_modules: list[str] | None = None,
    output_directory: str | Path | None = None,
    private_directory: str | Path | None = None,
) -> Runtime:
    """``private_directory``: input/, output/, temp/ and user/ live there instead (a Ray worker's own
    folders; its models stay those of ``base_directory``). ``precision``: the dtype and fast-mode flags
    (a ``Precision`` or its ``as_dict()``); ``force_fp16`` is the short form of ``Precision(force="fp16")``."""
    if not isinstance(precision, Precision):
        precision = Precision.from_dict(precision)
    if force_fp16 and precision.force is None:
        precision = dataclasses.replace(precision, force="fp16")
    base = Path(base_directory or REPO_ROOT).resolve()
    extra = _extra_model_paths(base, extra_model_paths)
    own = Path(private_directory) if private_directory else None
    env = Folders(
        base,
        extra_model_paths={k: v for k, v in extra.items() if k != "custom_nodes"},
        output_directory=str(output_directory) if output_directory else (own and str(own / "output")),
        **({f"{kind}_directory": str(own / kind) for kind in ("input", "temp", "user")} if own else {}),
    )
    env.ensure()
    for kind in DEMO_KINDS:  # the bundled demo pack, after the user's own folders
        if (DEMO_WEIGHTS / kind).is_dir():
            env.add_model_path(kind, DEMO_WEIGHTS / kind)
    registry = builtin_registry()
    for name in extra_node_modules or []:
        registry.add_module(importlib.import_module(name), source=name)
    models = _model_manager(cpu, lowvram, precision, plain_kernels)  # before packs: they ask for devices at import
    folders = [REPO_ROOT / "custom_nodes", base / "custom_nodes"] + [Path(p) for p in extra.get("custom_nodes", [])]
    unique = list(dict.fromkeys(p.resolve() for p in folders if p.exists()))
    # ComfyUI's modules (folder_paths, nodes, comfy.model_management, ...) speak for this runtime
    compat = importlib.import_module("nodeflow.comfy_compat.binding")
    compat.bind(env, models, registry, custom_node_folders=tuple(unique))
    status: list = []
    if custom_nodes:
        plugins = importlib.import_module("nodeflow.plugins.loader")
        status = plugins.load_plugins(registry, unique, whitelist=custom_node_whitelist)
        compat.refresh()  # the packs' nodes join nodes.NODE_CLASS_MAPPINGS
    engine = Engine(registry, env, models=models, cache_ram_gb=cache_ram_gb, cache_enabled=cache_enabled)
    return Runtime(env=env, registry=registry, engine=engine, models=models, plugin_status=status)

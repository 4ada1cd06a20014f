"""The node registry: every node the engine can run, by class_type name."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Iterable
from typing import Any

from .node import Node
from .spec import NodeSpec, spec_from_node_class

log = logging.getLogger(__name__)
STRICT_ENV = "NODEFLOW_STRICT_NODES"


class NameClash(ValueError):
    """A node name that is already registered (first registration wins)."""


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}
        self.clashes: list[dict] = []
        self.failed_modules: dict[str, str] = {}

    def add(self, spec: NodeSpec) -> None:
        existing = self._specs.get(spec.name)
        if existing is not None:
            clash = {"name": spec.name, "kept": existing.source, "refused": spec.source}
            self.clashes.append(clash)
            raise NameClash(
                f"node {spec.name!r} from {spec.source} clashes with the one from "
                f"{existing.source}; the first one is kept. Rename the node class to fix this."
            )
        self._specs[spec.name] = spec

    def add_class(self, cls: type[Node], source: str = "builtin") -> NodeSpec:
        spec = spec_from_node_class(cls, source)
        self.add(spec)
        return spec

    def add_module(self, module: Any, source: str = "builtin") -> list[NodeSpec]:
        """Register every Node subclass defined in ``module`` (not imported ones)."""
        return [
            self.add_class(value, source)
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Node)
            and value is not Node
            and value.__module__ == module.__name__
            and not value.__dict__.get("abstract", False)
        ]

    def get(self, name: str) -> NodeSpec | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return list(self._specs)

    def object_info(self, env: Any = None, names: Iterable[str] | None = None) -> dict:
        result = {}
        for name in names if names is not None else self._specs:
            spec = self._specs.get(name)
            if spec is None:
                continue
            try:
                result[name] = spec.object_info(env)
            except Exception as exc:  # a plugin's broken combo must not take down /object_info
                log.warning("object_info for %s failed: %s", name, exc)
        return result


class NodeModuleError(ImportError):
    """A built-in node module that cannot be imported, raised in strict mode."""


def strict_node_modules() -> bool:
    """``NODEFLOW_STRICT_NODES=1`` (the test suite sets it): a broken built-in node module stops
    NodeFlow instead of only removing its nodes."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def builtin_registry(strict: bool | None = None) -> Registry:
    """A registry holding every built-in node module under nodeflow.nodes. A module that fails to
    import is logged with its traceback and listed in ``failed_modules``, and the others load; with
    ``strict`` (default: ``strict_node_modules()``) it raises NodeModuleError naming the module."""
    import nodeflow.nodes as pkg

    strict = strict_node_modules() if strict is None else strict
    registry = Registry()
    for info in sorted(pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."), key=lambda i: i.name):
        if info.ispkg:
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as exc:  # one broken module must not take every node down
            problem = f"{type(exc).__name__}: {exc}"
            if strict:
                raise NodeModuleError(f"built-in node module {info.name} failed to import: {problem}") from exc
            log.error(
                "built-in node module %s failed to import (%s); its nodes are missing until it is fixed "
                "(%s=1 makes this stop NodeFlow instead)",
                info.name,
                problem,
                STRICT_ENV,
                exc_info=exc,
            )
            registry.failed_modules[info.name] = problem
            continue
        registry.add_module(module)
    return registry

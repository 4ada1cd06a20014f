"""Which model files a prompt needs, named by kind and file name: every literal input of a
folder-listed choice (``Combo(files=kind)``) of a model kind, and, for nodes whose inputs NodeFlow
cannot read that way (plugin nodes with plain lists), every literal string that names a model file
some worker has."""

from __future__ import annotations

from typing import Any

NOT_MODELS = ("input", "output", "temp")


def needed_models(
    registry: Any, prompt: dict, offered: dict[str, dict[str, str]]
) -> tuple[set[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """(needed {(kind, name)}, missing [(node id, input name, kind, name)]) for ``prompt``.
    ``offered`` is {kind: {name: identity}} of all workers together."""
    needed: set[tuple[str, str]] = set()
    missing: list[tuple[str, str, str, str]] = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            continue
        spec = registry.get(node.get("class_type")) if isinstance(node.get("class_type"), str) else None
        decls = spec.inputs if spec is not None else {}
        for name, value in node["inputs"].items():
            if not isinstance(value, str):
                continue
            decl = decls.get(name)
            kind = getattr(getattr(decl, "desc", None), "files", None) if decl is not None else None
            if kind is not None and kind not in NOT_MODELS:
                if value in offered.get(kind, {}):
                    needed.add((kind, value))
                else:
                    missing.append((str(node_id), name, kind, value))
                continue
            for other, names in offered.items():
                if value in names:
                    needed.add((other, value))
    return needed, missing


def identities(needed: set[tuple[str, str]], offered: dict[str, dict[str, str]]) -> frozenset[str]:
    return frozenset(offered[kind][name] for kind, name in needed if name in offered.get(kind, {}))

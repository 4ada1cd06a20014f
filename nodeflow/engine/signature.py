"""Cache keys: a node's key hashes its class, version, literal inputs, fingerprint and the keys
of the nodes feeding it, so an unchanged subgraph has an unchanged key across prompts.
Nodes whose output depends on which node they are (a hidden UNIQUE_ID input, or not idempotent)
also hash their node id: they are cached per node, never shared with a twin."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from collections.abc import Mapping
from typing import Any

import networkx as nx

from nodeflow.graph.prompt import is_link, unwrap_literal
from nodeflow.schema.registry import Registry
from nodeflow.schema.types import InputError

log = logging.getLogger(__name__)


class NodeKeyError(Exception):
    """A node's cache key could not be computed, e.g. a literal that passed validation when the
    prompt was queued but not any more (its file was removed in the meantime)."""

    def __init__(self, node_id: str, class_type: str, exc: BaseException):
        super().__init__(str(exc))
        self.node_id, self.class_type, self.exc = node_id, class_type, exc


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


def _never_cache(fingerprint: Any) -> bool:
    return isinstance(fingerprint, float) and math.isnan(fingerprint)


def literal_inputs(registry: Registry, env: Any, node: dict) -> dict:
    """The node's widget values, normalised by their descriptors."""
    spec = registry.get(node["class_type"])
    result = {}
    for name, value in (node.get("inputs") or {}).items():
        decl = spec.inputs.get(name)
        if decl is None or decl.section == "hidden" or is_link(value):
            continue
        try:
            result[name] = spec.literal_value(decl, unwrap_literal(value), env)
        except InputError as exc:
            raise InputError(
                exc.kind,
                f"input {name!r} is no longer valid: {exc.message}. It passed validation "
                "when the prompt was queued, so a file it names was probably removed or renamed "
                "since; put the file back or pick another value",
                exc.details,
            ) from exc
    return result


def needed_nodes(prompt: Mapping, outputs: list[str]) -> nx.DiGraph:
    """The subgraph of ``outputs`` and everything they depend on (edges source -> consumer)."""
    graph = nx.DiGraph()
    stack = list(outputs)
    while stack:
        nid = stack.pop()
        if nid in graph and graph.nodes[nid].get("seen"):
            continue
        graph.add_node(nid, seen=True)
        for value in (prompt[nid].get("inputs") or {}).values():
            if is_link(value):
                src = str(value[0])
                graph.add_edge(src, nid)
                stack.append(src)
    return graph


def cache_keys(
    registry: Registry,
    env: Any,
    prompt: Mapping,
    order: list[str],
    literals: dict[str, dict] | None = None,
    known: dict[str, str] | None = None,
) -> dict[str, str]:
    """Keys for every node in ``order`` (a topological order). ``literals``, when given, receives
    each node's checked literal inputs, so the engine need not check (and list folders) again.
    ``known`` holds keys computed before (nodes an expansion's new nodes link to)."""
    keys: dict[str, str] = dict(known or {})
    literals = {} if literals is None else literals
    for nid in order:
        try:
            literals[nid] = literal_inputs(registry, env, prompt[nid])
            keys[nid] = _node_key(registry, env, prompt, nid, keys, literals[nid])
        except Exception as exc:
            raise NodeKeyError(nid, prompt[nid].get("class_type"), exc) from exc
    return {nid: keys[nid] for nid in order}


def _plain(value: Any) -> bool:
    """JSON-like data, which hashes by value. Other literals (tensors, models an expansion hands
    to its ephemeral nodes) have no faithful key: those nodes are never served from the cache."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _node_key(registry: Registry, env: Any, prompt: Mapping, nid: str, keys: dict[str, str], literals: dict) -> str:
    """One node's key, given its literal inputs and the keys of the nodes before it in
    topological order."""
    node = prompt[nid]
    spec = registry.get(node["class_type"])
    fingerprint = None
    if spec.fingerprint is not None:
        try:
            fingerprint = spec.fingerprint(env, literals)
        except Exception as exc:  # ComfyUI's IS_CHANGED raising: run the node every time
            log.warning("%s (node %s): its fingerprint raised %s; the node is never cached", spec.name, nid, exc)
            fingerprint = float("nan")
    links = sorted(
        (name, keys[str(v[0])], v[1])
        for name, v in (node.get("inputs") or {}).items()
        if is_link(v) and name in spec.inputs
    )
    if (
        not spec.deterministic
        or _never_cache(fingerprint)
        or any(k.startswith("volatile:") for _, k, _ in links)
        or not _plain(literals)
    ):
        return f"volatile:{uuid.uuid4().hex}"
    node_part = nid if spec.keyed_by_node else None
    material = _canonical([spec.name, spec.version, literals, repr(fingerprint), links, node_part])
    return hashlib.sha256(material.encode()).hexdigest()

"""Node expansion: a node returns a graph of new (ephemeral) nodes that runs in its place.

A node returns ``{"result": (...), "expand": graph}`` (ComfyUI V1), ``NodeOutput(..., expand=graph)``
(V3) or ``NodeResult(outputs, expand=graph)``; ``graph`` is API-format (GraphBuilder.finalize())
and the outputs may be links ``[node_id, index]`` into it. The engine adds the nodes to the run's
DynamicPrompt, keys them for the cache like any node, runs the graph's output nodes and the linked
sources, then gives the expanded node the linked outputs. Node ids are ``"<parent>.<call>.<graph>.<id>"``
(GraphBuilder's default prefix is set per call, below), so they are stable across runs and nested
expansions never collide.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nodeflow.graph.prompt import is_link
from nodeflow.schema.registry import Registry
from nodeflow.schema.spec import NodeSpec

from .results import Produced, add_items
from .signature import cache_keys, needed_nodes


@dataclass
class PrefixState:
    """GraphBuilder's default id prefix: ``{root}.{call_index}.{graph_index}.``"""

    root: str = ""
    call_index: int = 0
    graph_index: int = 0


PREFIX: contextvars.ContextVar[PrefixState | None] = contextvars.ContextVar("nodeflow_graph_prefix", default=None)


@contextlib.contextmanager
def prefix_scope(root: str, call_index: int) -> Iterator[None]:
    """While a node's call runs, GraphBuilders it creates get ids under ``root.call_index.``"""
    token = PREFIX.set(PrefixState(root, call_index, 0))
    try:
        yield
    finally:
        PREFIX.reset(token)


class ExpansionError(ValueError):
    """An expansion graph the engine cannot run (unknown class, a link back into the node, ...)."""


@dataclass
class Pending:
    """A node whose calls expanded: it completes once the linked outputs have values."""

    calls: list[tuple[Produced, bool]]  # each call's result, and whether it expanded
    ui: dict | None = None
    output_nodes: list[str] = field(default_factory=list)  # the expansions' output nodes

    def sources(self) -> set[str]:
        return {str(v[0]) for produced, expanded in self.calls if expanded for v in produced.outputs if is_link(v)}

    def resolve(self, spec: NodeSpec, values: dict[str, list[list]]) -> list[list]:
        """The node's output lists: links replaced by the whole output list they point at."""
        outs: list[list] = [[] for _ in spec.outputs]
        for produced, expanded in self.calls:
            for slot, (out, value) in enumerate(zip(spec.outputs, produced.outputs, strict=False)):
                if expanded and is_link(value):
                    outs[slot].extend(values[str(value[0])][value[1]])
                else:
                    add_items(outs[slot], out.is_list, value)
        return outs


def expand(run: Any, registry: Registry, env: Any, parent: str, pending: Pending) -> list[str]:
    """Add the graphs of ``pending``'s calls to ``run.prompt`` as children of ``parent`` and key
    them for the cache; return the ids of their output nodes (they run as well)."""
    prompt = run.prompt
    new: list[str] = []
    for produced, expanded in pending.calls:
        if expanded:
            new += _add_nodes(prompt, registry, parent, produced.expand)
    for node_id in new:
        for name, value in prompt[node_id]["inputs"].items():
            if is_link(value) and value[0] not in prompt:
                raise ExpansionError(
                    f"expanded node {node_id!r}: input {name!r} links to node {value[0]!r}, "
                    "which is neither in the expansion nor in the prompt"
                )
    sources = pending.sources()
    unknown = sorted(s for s in sources if s not in prompt)
    if unknown:
        raise ExpansionError(
            f"the node's result links to node {unknown[0]!r}, which is neither in the expansion nor in the prompt"
        )
    upstream = needed_nodes(prompt, new + sorted(sources))
    if not nx.is_directed_acyclic_graph(upstream):
        raise ExpansionError("the expanded graph has a dependency cycle")
    back = sorted((set(run.pending) | {parent}) & set(upstream))
    if back:
        raise ExpansionError(
            f"the expanded graph depends on node {back[0]}, which waits for the expansion "
            "(a link back into the expanding node)"
        )
    order = [n for n in nx.lexicographical_topological_sort(upstream, key=lambda n: (len(n), n)) if n not in run.keys]
    run.keys.update(cache_keys(registry, env, prompt, order, run.literals, known=run.keys))
    return [n for n in new if registry.get(prompt[n]["class_type"]).output_node]


def _add_nodes(prompt: Any, registry: Registry, parent: str, graph: dict) -> list[str]:
    display = prompt.get_display_node_id(parent)
    new = []
    for node_id, info in graph.items():
        node_id = str(node_id)
        if not isinstance(info, dict) or not isinstance(info.get("class_type"), str):
            raise ExpansionError(f"expanded node {node_id!r} needs a class_type and inputs")
        if registry.get(info["class_type"]) is None:
            raise ExpansionError(
                f"expanded node {node_id!r} uses class_type {info['class_type']!r}, which is not "
                "registered; install the pack that provides it"
            )
        if node_id in prompt:
            raise ExpansionError(
                f"expanded node id {node_id!r} is already in the prompt; let GraphBuilder "
                "pick ids (GraphBuilder() without a fixed prefix)"
            )
        inputs = {str(k): ([str(v[0]), v[1]] if is_link(v) else v) for k, v in (info.get("inputs") or {}).items()}
        prompt.add_ephemeral_node(
            node_id,
            {"class_type": info["class_type"], "inputs": inputs},
            parent,
            str(info.get("override_display_id") or display),
        )
        new.append(node_id)
    return new

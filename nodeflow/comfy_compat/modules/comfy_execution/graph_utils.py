"""comfy_execution.graph_utils for ComfyUI packs: GraphBuilder (builds the API-format graph a node
returns as ``expand``), is_link, ExecutionBlocker. Written for NodeFlow from ComfyUI's documented
behaviour; the engine side is nodeflow/engine/expansion.py."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import missing
from nodeflow.engine.expansion import PREFIX, PrefixState
from nodeflow.engine.results import ExecutionBlocker

__all__ = ["ExecutionBlocker", "GraphBuilder", "Node", "add_graph_prefix", "is_link"]


def is_link(obj: Any) -> bool:
    """``[node_id: str, output_index: int]``."""
    return (
        isinstance(obj, list)
        and len(obj) == 2
        and isinstance(obj[0], str)
        and isinstance(obj[1], int)
        and not isinstance(obj[1], bool)
    )


class Node:
    """One node of a GraphBuilder graph."""

    def __init__(self, id: str, class_type: str, inputs: dict) -> None:
        self.id = id
        self.class_type = class_type
        self.inputs = dict(inputs)
        self.override_display_id: str | None = None

    def out(self, index: int) -> list:
        """A link to output ``index`` of this node, for another node's input or the result."""
        return [self.id, index]

    def set_input(self, key: str, value: Any) -> None:
        if value is None:
            self.inputs.pop(key, None)
        else:
            self.inputs[key] = value

    def get_input(self, key: str) -> Any:
        return self.inputs.get(key)

    def set_override_display_id(self, override_display_id: str) -> None:
        self.override_display_id = override_display_id

    def serialize(self) -> dict:
        data = {"class_type": self.class_type, "inputs": dict(self.inputs)}
        if self.override_display_id is not None:
            data["override_display_id"] = self.override_display_id
        return data


def _state() -> PrefixState:
    state = PREFIX.get()
    if state is None:  # outside a running node: a fresh state for this context
        state = PrefixState()
        PREFIX.set(state)
    return state


class GraphBuilder:
    """Build a graph of nodes: ``node(class_type, id=None, **inputs)``, links with ``.out(i)``,
    ``finalize()`` for the ``expand`` dict. Ids get a prefix unique to the running node and call."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix if prefix is not None else GraphBuilder.alloc_prefix()
        self.nodes: dict[str, Node] = {}
        self.id_gen = 1

    @classmethod
    def set_default_prefix(cls, prefix_root: str, call_index: int, graph_index: int = 0) -> None:
        state = _state()
        state.root, state.call_index, state.graph_index = prefix_root, call_index, graph_index

    @classmethod
    def alloc_prefix(
        cls, root: str | None = None, call_index: int | None = None, graph_index: int | None = None
    ) -> str:
        state = _state()
        if graph_index is None:
            graph_index = state.graph_index
            state.graph_index += 1
        root = state.root if root is None else root
        call_index = state.call_index if call_index is None else call_index
        return f"{root}.{call_index}.{graph_index}."

    def node(self, class_type: str, id: str | None = None, **kwargs: Any) -> Node:
        if id is None:
            id = str(self.id_gen)
            self.id_gen += 1
        id = self.prefix + id
        if id in self.nodes:
            return self.nodes[id]
        node = Node(id, class_type, kwargs)
        self.nodes[id] = node
        return node

    def lookup_node(self, id: str) -> Node | None:
        return self.nodes.get(self.prefix + id)

    def finalize(self) -> dict:
        return {node_id: node.serialize() for node_id, node in self.nodes.items()}

    def replace_node_output(self, node_id: str, index: int, new_value: Any) -> None:
        """Make every input linked to output ``index`` of ``node_id`` use ``new_value`` instead."""
        node_id = self.prefix + node_id
        for node in self.nodes.values():
            for key, value in list(node.inputs.items()):
                if is_link(value) and value[0] == node_id and value[1] == index:
                    node.set_input(key, new_value)

    def remove_node(self, id: str) -> None:
        self.nodes.pop(self.prefix + id, None)


def add_graph_prefix(graph: dict, outputs: Any, prefix: str) -> tuple[dict, tuple]:
    """``graph`` with every node id (and link) prefixed, and ``outputs`` with their links prefixed."""

    def fix(value: Any) -> Any:
        return [prefix + value[0], value[1]] if is_link(value) else value

    new_graph = {
        prefix + node_id: {**info, "inputs": {k: fix(v) for k, v in info.get("inputs", {}).items()}}
        for node_id, info in graph.items()
    }
    return new_graph, tuple(fix(o) for o in outputs)


__getattr__ = missing("comfy_execution.graph_utils")

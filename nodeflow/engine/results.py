"""What a node returns, normalised: its outputs, its ui dict, and the subgraph it expands into.
Also the ExecutionBlocker value that stops the nodes downstream of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodeflow.schema.node import NodeResult
from nodeflow.schema.spec import NodeSpec


class ExecutionBlocker:
    """Returned in place of an output: nodes that receive it do not run and pass it on. With a
    message, the first node it blocks reports the message as an execution_error (and the
    prompt goes on, as in ComfyUI); with None, the branch is skipped silently."""

    def __init__(self, message: str | None) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"ExecutionBlocker({self.message!r})"


@dataclass
class Produced:
    """One call of a node: ``outputs`` (one item per output slot), ``ui`` and ``expand`` (an
    API-format graph of ephemeral nodes; then outputs may be links into it)."""

    outputs: tuple
    ui: dict | None = None
    expand: dict | None = None


def normalise_result(spec: NodeSpec, raw: Any) -> Produced:
    """Turn what a node returned (a tuple, a bare value, NodeResult, or ComfyUI's
    ``{"result", "ui", "expand"}`` dict) into a Produced."""
    ui = expand = None
    if isinstance(raw, NodeResult):
        outputs, ui, expand = raw.outputs, raw.ui, raw.expand
    elif isinstance(raw, dict) and ("ui" in raw or "result" in raw or "expand" in raw):
        outputs, ui, expand = raw.get("result", ()), raw.get("ui"), raw.get("expand")
    elif isinstance(raw, tuple):
        outputs = raw
    elif raw is None:
        outputs = ()
    else:
        outputs = (raw,)
    if isinstance(outputs, ExecutionBlocker):
        outputs = (outputs,) * len(spec.outputs)
    if not isinstance(outputs, (tuple, list)):
        outputs = (outputs,)
    outputs = tuple(outputs)
    if len(outputs) < len(spec.outputs):
        if len(outputs) == 0 and spec.output_node:
            outputs = (None,) * len(spec.outputs)
        else:
            raise TypeError(f"node {spec.name} returned {len(outputs)} values for {len(spec.outputs)} outputs")
    if expand is not None and not isinstance(expand, dict):
        raise TypeError(
            f"node {spec.name} returned 'expand' as {type(expand).__name__}; it must be the dict "
            "GraphBuilder.finalize() returns"
        )
    return Produced(outputs[: len(spec.outputs)], ui, expand)


def merge_ui(into: dict | None, ui: dict | None) -> dict | None:
    """Merge the ui dicts of several calls of one node (list semantics): lists are joined."""
    if ui is None:
        return into
    if into is None:
        return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in ui.items()}
    for key, value in ui.items():
        if isinstance(value, (list, tuple)) and isinstance(into.get(key), list):
            into[key].extend(value)
        else:
            into[key] = value
    return into


def add_items(slot_items: list, is_list: bool, value: Any) -> None:
    """Append one call's value for an output slot; an OUTPUT_IS_LIST slot's list is spread."""
    if is_list and isinstance(value, (list, tuple)):
        slot_items.extend(value)
    else:
        slot_items.append(value)


def blocker_in(kwargs: dict, input_is_list: bool) -> ExecutionBlocker | None:
    """The first ExecutionBlocker among a call's inputs, or None."""
    for value in kwargs.values():
        items = value if input_is_list and isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ExecutionBlocker):
                return item
    return None

"""Show any value on the canvas."""

from __future__ import annotations

import json
from typing import Any

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import AnyType


def describe(value: Any) -> str:
    """Text for a value: strings as they are, numbers and JSON-able data as JSON, tensors by shape."""
    if isinstance(value, str):
        return value
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {list(shape)}, dtype {getattr(value, 'dtype', '?')}"
    try:
        return json.dumps(
            value, indent=2, default=lambda v: describe(v) if getattr(v, "shape", None) is not None else repr(v)
        )
    except (TypeError, ValueError):
        return repr(value)


class PreviewAny(Node):
    """Show any value (text, number, tensor shape, ...) on the node."""

    display_name = "Preview Any"
    category = "utils"
    output_node = True
    inputs = {"source": AnyType()}
    outputs = {}

    def run(self, source):
        return NodeResult(ui={"text": [describe(source)]})

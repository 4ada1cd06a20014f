"""The API prompt format's small facts, shared by the validator, the engine and the workflow
converters: what a link looks like and how a literal list value is wrapped."""

from __future__ import annotations

from typing import Any


def is_link(value: Any) -> bool:
    """A link is ``[source_node_id, output_index]``."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def unwrap_literal(value: Any) -> Any:
    """Literal list widget values arrive wrapped as ``{"__value__": [...]}``."""
    if isinstance(value, dict) and set(value) == {"__value__"}:
        return value["__value__"]
    return value

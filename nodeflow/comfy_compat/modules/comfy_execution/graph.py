"""comfy_execution.graph for ComfyUI packs: ExecutionBlocker (stop the branch downstream of an
output), DynamicPrompt (what a hidden DYNPROMPT input receives: the running prompt with the nodes
expansions added) and get_input_info."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import missing
from nodeflow.engine.dynprompt import DynamicPrompt, NodeNotFoundError
from nodeflow.engine.results import ExecutionBlocker

__all__ = ["DynamicPrompt", "ExecutionBlocker", "NodeNotFoundError", "get_input_info"]


def get_input_info(class_def: type, input_name: str, valid_inputs: dict | None = None):
    """(type, section, options) of a V1 class's input, or (None, None, None) when it has none."""
    valid_inputs = valid_inputs if valid_inputs is not None else class_def.INPUT_TYPES()
    for section in ("required", "optional", "hidden"):
        entry: Any = (valid_inputs.get(section) or {}).get(input_name)
        if entry is None:
            continue
        if not isinstance(entry, (list, tuple)):
            return entry, section, None
        return entry[0], section, (entry[1] if len(entry) > 1 else None)
    return None, None, None


__getattr__ = missing("comfy_execution.graph")

"""One entry point per target format; any of the three formats in.

prompt, warnings = to_api(data, object_info)
workflow, warnings = to_nodeflow(data, object_info)
comfy, warnings = to_comfyui(data, object_info)
"""

from __future__ import annotations

from typing import Any

from . import model
from .api_import import import_api
from .comfy_export import export_comfy
from .comfy_import import import_comfy
from .errors import WorkflowError, warning
from .subgraphs import flatten
from .to_api import to_api_prompt
from .widgets import input_specs

__all__ = ["WorkflowError", "detect_format", "to_api", "to_comfyui", "to_nodeflow"]


def detect_format(data: Any) -> str:
    """ "nodeflow", "comfyui" (editor format) or "api"; raises WorkflowError otherwise."""
    if isinstance(data, dict):
        if data.get("format") == model.FORMAT:
            return "nodeflow"
        if isinstance(data.get("nodes"), list) and "links" in data:
            return "comfyui"
        if data and all(isinstance(v, dict) and "class_type" in v for v in data.values()):
            return "api"
    raise WorkflowError(
        "not a workflow: expected a NodeFlow workflow, a ComfyUI editor workflow (nodes and links) "
        "or an API prompt ({id: {class_type, inputs}})"
    )


def to_nodeflow(data: Any, object_info: dict) -> tuple[dict, list[dict]]:
    kind = detect_format(data)
    try:
        if kind == "nodeflow":
            return model.check(data), []
        if kind == "comfyui":
            workflow, warnings = import_comfy(data, object_info)
        else:
            workflow, warnings = import_api(data, object_info)
        return model.check(workflow), warnings + missing_choices(workflow, object_info)
    except WorkflowError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise WorkflowError(f"malformed {kind} workflow: {type(exc).__name__}: {exc}"[:300]) from None


def to_api(data: Any, object_info: dict) -> tuple[dict, list[dict]]:
    if detect_format(data) == "api":
        return data, []
    workflow, warnings = to_nodeflow(data, object_info)
    try:
        flat = flatten(workflow)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        if isinstance(exc, WorkflowError):
            raise
        raise WorkflowError(f"malformed subgraph: {type(exc).__name__}: {exc}"[:300]) from None
    prompt, more = to_api_prompt(flat, object_info)
    return prompt, warnings + [w for w in more if w not in warnings]


def to_comfyui(data: Any, object_info: dict) -> tuple[dict, list[dict]]:
    if detect_format(data) == "comfyui":
        return data, []
    workflow, warnings = to_nodeflow(data, object_info)
    comfy, more = export_comfy(workflow, object_info)
    return comfy, warnings + more


def missing_choices(workflow: dict, object_info: dict) -> list[dict]:
    """Widget values that are not among the choices here: usually a model or image file this
    machine does not have. Reported so the user can fetch it; the workflow still loads."""
    found = []
    for node in [*workflow["nodes"], *(n for d in workflow.get("subgraphs") or [] for n in d.get("nodes") or [])]:
        info = object_info.get(node["type"])
        for name, spec, _ in input_specs(info or {}):
            choices = spec[0] if isinstance(spec[0], list) else None
            value = (node.get("widgets") or {}).get(name)
            if choices is not None and value is not None and value not in choices:
                found.append(
                    warning(
                        node["id"],
                        f"{node['type']}.{name}: {str(value)[:120]!r} is not available here "
                        f"(a missing model or input file?); put it in its folder or pick "
                        f"another",
                    )
                )
    return found

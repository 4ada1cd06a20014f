"""What an image carries so every reader can open it: ComfyUI's editor format under ``workflow``
(ComfyUI, civitai-style viewers), the API prompt under ``prompt`` (written by the save nodes), and
NodeFlow's own format under ``nodeflow_workflow``, which NodeFlow prefers when it reads the file back.

    extra_pnginfo = shareable_pnginfo(extra_pnginfo, object_info_for)

is applied once, where a prompt is admitted (POST /prompt, ``nodeflow run``), so every node that
writes ``extra_pnginfo`` (built-in or plugin) and /history carry the shareable form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import model
from .comfy_export import export_comfy
from .errors import WorkflowError

NODEFLOW_KEY = "nodeflow_workflow"
log = logging.getLogger(__name__)


def is_nodeflow(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == model.FORMAT


def node_types(workflow: dict) -> set[str]:
    return {
        n.get("type") for n in workflow.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("type"), str)
    }


def shareable_pnginfo(extra_pnginfo: Any, object_info_for: Callable[[set[str]], dict]) -> Any:
    """``extra_pnginfo`` whose ``workflow`` is NodeFlow's format -> ``workflow`` in ComfyUI's editor
    format first, then the original under NODEFLOW_KEY, then the other keys as they were. Anything
    else (ComfyUI's format already, no workflow, not a dict) is returned unchanged.

    ``object_info_for(types)`` gives the /object_info entries of those node types (the export
    needs each node's widget order). A workflow that cannot be exported keeps only its NodeFlow copy:
    ComfyUI must never find NodeFlow's format under its own key."""
    if not isinstance(extra_pnginfo, dict) or not is_nodeflow(extra_pnginfo.get("workflow")):
        return extra_pnginfo
    original = extra_pnginfo["workflow"]
    rest = {k: v for k, v in extra_pnginfo.items() if k not in ("workflow", NODEFLOW_KEY)}
    try:
        comfy, _warnings = export_comfy(model.check(original), object_info_for(node_types(original)))
    except (WorkflowError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        log.warning("the workflow could not be exported in ComfyUI's format (images keep NodeFlow's only): %s", exc)
        return {NODEFLOW_KEY: original, **rest}
    return {"workflow": comfy, NODEFLOW_KEY: original, **rest}


def preferred_workflow(found: dict) -> Any:
    """Of the workflows an image or a history entry carries, the one NodeFlow opens: its own first."""
    return found.get(NODEFLOW_KEY) or found.get("workflow")

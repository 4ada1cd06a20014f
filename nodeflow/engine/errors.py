"""What execution_error reports: the failing node, its inputs, the exception."""

from __future__ import annotations

import time
import traceback
from typing import Any

from nodeflow.schema.spec import NodeSpec


class NodeFailure(Exception):
    """A node raised; carries what execution_error reports."""

    def __init__(self, node_id: str, spec: NodeSpec, exc: BaseException, inputs: dict):
        super().__init__(str(exc))
        self.node_id, self.spec, self.exc, self.inputs = node_id, spec, exc, inputs


def now() -> int:
    return int(time.time() * 1000)


def describe(value: Any) -> Any:
    """A short JSON-safe description of an input value for error reports."""
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value if not isinstance(value, str) else value[:200]
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__}{tuple(shape)}"
    if isinstance(value, list):
        return [describe(v) for v in value[:4]]
    return type(value).__name__


def error_report(run: Any, exc: BaseException) -> dict:
    """Set the run's result to error and return the execution_error payload, naming the failing
    node (or the node that was running when the engine itself failed)."""
    failure = exc if isinstance(exc, NodeFailure) else None
    node_id = failure.node_id if failure else run.current
    if failure is not None:
        exc = failure.exc
    node_type = (
        failure.spec.name
        if failure and failure.spec
        else (run.prompt.get(node_id, {}).get("class_type") if node_id else None)
    )
    result = run.result
    result.status = "error"
    result.error = {
        "prompt_id": run.job.prompt_id,
        "node_id": node_id,
        "node_type": node_type,
        "executed": list(result.executed),
        "exception_message": f"{exc}" or type(exc).__name__,
        "exception_type": f"{type(exc).__module__}.{type(exc).__name__}".replace("builtins.", ""),
        "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__)[-12:],
        "current_inputs": {k: describe(v) for k, v in (failure.inputs if failure else {}).items()},
        "current_outputs": sorted(run.values),
        "timestamp": now(),
    }
    return result.error


def blocked_report(run: Any, node_id: str, spec: NodeSpec, message: str) -> dict:
    """The execution_error ComfyUI sends when an ExecutionBlocker with a message stops a node
    (the prompt goes on; its status stays a success)."""
    return {
        "prompt_id": run.job.prompt_id,
        "node_id": node_id,
        "node_type": spec.name,
        "executed": list(run.result.executed),
        "exception_message": f"Execution Blocked: {message}",
        "exception_type": "ExecutionBlocked",
        "traceback": [],
        "current_inputs": [],
        "current_outputs": [],
        "timestamp": now(),
    }

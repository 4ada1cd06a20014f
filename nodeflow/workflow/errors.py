"""Errors and warnings of workflow conversion."""

from __future__ import annotations


class WorkflowError(ValueError):
    """A workflow file that cannot be read at all; the message names the problem."""


def warning(node: str | int | None, message: str) -> dict:
    """A problem that does not stop the conversion (unknown node, missing model, changed version)."""
    return {"node": None if node is None else str(node), "message": message}

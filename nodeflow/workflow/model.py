"""The NodeFlow workflow format, version 1 (schema: docs/nodeflow-workflow.schema.json).

    {"format": "nodeflow-workflow", "version": 1,
     "nodes": [{"id", "type", "version", "pos", "size", "title", "color", "bgcolor", "mode",
                "collapsed", "widgets": {name: value}, "controls": {name: "randomize"},
                "converted": [widget names shown as input sockets]}],
     "links": [{"id", "from": [node_id, output_slot], "to": [node_id, input_name], "type",
                "via": [[x, y], ...]}],
     "groups": [{"id", "title", "bounding": [x, y, w, h], "color"}],
     "notes": [{"id", "text", "pos", "size", "markdown", "title"}],
     "viewport": {"offset": [x, y], "scale": 1.0}}

Widget values are keyed by input name, so adding or reordering a node's inputs never shifts
them. Node ids are strings. ``mode`` is "active", "muted" (skipped) or "bypassed" (inputs
pass through to outputs of the same type). ``via`` keeps the points of reroutes a link ran through.
A node of type "PrimitiveNode" is editor-only: its value is also written into the widgets it feeds.
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import WorkflowError

FORMAT = "nodeflow-workflow"
VERSION = 1
MODES = ("active", "muted", "bypassed")

# Migrations: MIGRATIONS[n] turns a version-n workflow into version n+1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def empty() -> dict:
    return {"format": FORMAT, "version": VERSION, "nodes": [], "links": [], "groups": [], "notes": [],
            "viewport": {"offset": [0, 0], "scale": 1.0}}


def migrate(workflow: dict) -> dict:
    version = workflow.get("version")
    if not isinstance(version, int) or version < 1:
        raise WorkflowError(f"NodeFlow workflow has no valid version (got {version!r})")
    if version > VERSION:
        raise WorkflowError(f"this workflow is format version {version}, newer than this NodeFlow reads "
                            f"({VERSION}); update NodeFlow")
    while version < VERSION:
        workflow = MIGRATIONS[version](workflow)
        version = workflow["version"]
    return workflow


def check(workflow: Any) -> dict:
    """Structural checks with messages naming the broken part; returns the (migrated) workflow."""
    if not isinstance(workflow, dict) or workflow.get("format") != FORMAT:
        raise WorkflowError("not a NodeFlow workflow (no \"format\": \"nodeflow-workflow\")")
    workflow = migrate(workflow)
    for key in ("nodes", "links"):
        if not isinstance(workflow.get(key), list):
            raise WorkflowError(f"NodeFlow workflow: '{key}' must be a list")
    ids = set()
    for node in workflow["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise WorkflowError(f"NodeFlow workflow: every node needs a string 'id' and 'type' (got {str(node)[:80]})")
        if node["id"] in ids:
            raise WorkflowError(f"NodeFlow workflow: node id {node['id']!r} is used twice")
        if node.get("mode", "active") not in MODES:
            raise WorkflowError(f"node {node['id']}: mode must be one of {MODES}")
        if not isinstance(node.get("widgets", {}), dict):
            raise WorkflowError(f"node {node['id']}: 'widgets' must be an object of input name -> value")
        ids.add(node["id"])
    for link in workflow["links"]:
        try:
            (src, slot), (dst, name) = link["from"], link["to"]
            assert isinstance(slot, int) and isinstance(name, str)
        except (KeyError, TypeError, ValueError, AssertionError):
            raise WorkflowError(f"NodeFlow workflow: a link needs from: [node, slot] and to: [node, input] "
                                f"(got {str(link)[:100]})") from None
        for end in (src, dst):
            if end not in ids:
                raise WorkflowError(f"NodeFlow workflow: link {link.get('id')} refers to missing node {end!r}")
    return workflow

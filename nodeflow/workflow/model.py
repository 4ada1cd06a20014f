"""The NodeFlow workflow format, version 2 (schema: docs/nodeflow-workflow.schema.json).

    {"format": "nodeflow-workflow", "version": 2,
     "nodes": [{"id", "type", "version", "pos", "size", "title", "color", "bgcolor", "mode",
                "collapsed", "widgets": {name: value}, "controls": {name: "randomize"},
                "converted": [widget names shown as input sockets]}],
     "links": [{"id", "from": [node_id, output_slot], "to": [node_id, input_name], "type",
                "via": [[x, y], ...]}],
     "groups": [{"id", "title", "bounding": [x, y, w, h], "color"}],
     "notes": [{"id", "text", "pos", "size", "markdown", "title"}],
     "viewport": {"offset": [x, y], "scale": 1.0},
     "subgraphs": [{"id", "name", "inputs": [{"id", "name", "type"}], "outputs": [...],
                    "nodes", "links", "groups", "notes", ...}]}

Widget values are keyed by input name, so adding or reordering a node's inputs never shifts
them. Node ids are strings. ``mode`` is "active", "muted" (skipped) or "bypassed" (inputs
pass through to outputs of the same type). ``via`` keeps the points of reroutes a link ran through.
A node of type "PrimitiveNode" is editor-only: its value is also written into the widgets it feeds.
Subgraphs (version 2): a node whose ``type`` is the id of an entry of ``subgraphs`` is an instance
of it; inside a definition, links from ``["@in", k]`` read the instance's k-th input and links to
``["@out", name]`` feed its output ``name`` (see subgraphs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import WorkflowError

FORMAT = "nodeflow-workflow"
VERSION = 2
MODES = ("active", "muted", "bypassed")


def _v1_to_v2(workflow: dict) -> dict:
    """Version 2 adds subgraph definitions; a version-1 file has none."""
    return {**workflow, "version": 2, "subgraphs": []}


# Migrations: MIGRATIONS[n] turns a version-n workflow into version n+1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}


def empty() -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "nodes": [],
        "links": [],
        "groups": [],
        "notes": [],
        "viewport": {"offset": [0, 0], "scale": 1.0},
        "subgraphs": [],
    }


def migrate(workflow: dict) -> dict:
    version = workflow.get("version")
    if not isinstance(version, int) or version < 1:
        raise WorkflowError(f"NodeFlow workflow has no valid version (got {version!r})")
    if version > VERSION:
        raise WorkflowError(
            f"this workflow is format version {version}, newer than this NodeFlow reads ({VERSION}); update NodeFlow"
        )
    while version < VERSION:
        workflow = MIGRATIONS[version](workflow)
        version = workflow["version"]
    return workflow


def check(workflow: Any) -> dict:
    """Structural checks with messages naming the broken part; returns the (migrated) workflow."""
    if not isinstance(workflow, dict) or workflow.get("format") != FORMAT:
        raise WorkflowError('not a NodeFlow workflow (no "format": "nodeflow-workflow")')
    workflow = migrate(workflow)
    definitions = workflow.setdefault("subgraphs", [])
    if not isinstance(definitions, list):
        raise WorkflowError("NodeFlow workflow: 'subgraphs' must be a list of subgraph definitions")
    check_subgraphs(definitions)
    check_graph(workflow, "NodeFlow workflow")
    return workflow


def check_subgraphs(definitions: list) -> None:
    """Each definition has an id, a name, inputs/outputs with names, and a valid inner graph."""
    seen = set()
    for definition in definitions:
        if not isinstance(definition, dict) or not isinstance(definition.get("id"), str) or not definition["id"]:
            raise WorkflowError(f"subgraph definitions need a string 'id' (got {str(definition)[:80]})")
        sid = definition["id"]
        if sid in seen:
            raise WorkflowError(f"subgraph {sid!r} is defined twice")
        seen.add(sid)
        for side in ("inputs", "outputs"):
            slots = definition.setdefault(side, [])
            if not isinstance(slots, list) or not all(
                isinstance(s, dict) and isinstance(s.get("name"), str) for s in slots
            ):
                raise WorkflowError(f"subgraph {sid!r}: '{side}' must be a list of {{name, type}}")
        check_graph(
            definition,
            f"subgraph {definition.get('name') or sid!r}",
            io={"@in": len(definition["inputs"]), "@out": {s["name"] for s in definition["outputs"]}},
        )


def check_graph(workflow: dict, where: str, io: dict | None = None) -> None:
    """Nodes with unique string ids and known modes; links between nodes that exist (or, inside a
    subgraph, from "@in" slots and to "@out" names that exist)."""
    for key in ("nodes", "links"):
        if not isinstance(workflow.get(key), list):
            raise WorkflowError(f"{where}: '{key}' must be a list")
    ids = set()
    for node in workflow["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise WorkflowError(f"{where}: every node needs a string 'id' and 'type' (got {str(node)[:80]})")
        if node["id"] in ids or node["id"].startswith("@"):
            raise WorkflowError(
                f"{where}: node id {node['id']!r} is used twice (or starts with '@', kept for subgraph inputs/outputs)"
            )
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
            raise WorkflowError(
                f"{where}: a link needs from: [node, slot] and to: [node, input] (got {str(link)[:100]})"
            ) from None
        if io is not None and src == "@in":
            if not 0 <= slot < io["@in"]:
                raise WorkflowError(f"{where}: link {link.get('id')} reads subgraph input {slot}, which does not exist")
            src = None
        if io is not None and dst == "@out":
            if name not in io["@out"]:
                raise WorkflowError(
                    f"{where}: link {link.get('id')} feeds subgraph output {name!r}, which does not exist"
                )
            dst = None
        for end in (src, dst):
            if end is not None and end not in ids:
                raise WorkflowError(f"{where}: link {link.get('id')} refers to missing node {end!r}")

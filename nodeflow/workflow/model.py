"""The NodeFlow workflow format, version 2 (schema: nodeflow-workflow.schema.json beside this file).

    {"format": "nodeflow-workflow", "version": 2,
     "nodes": [{"id", "type", "version", "pos", "size", "title", "color", "bgcolor", "mode",
                "collapsed", "pinned"?, "widgets": {name: value}, "controls": {name: "randomize"},
                "converted": [widget names shown as input sockets]}],
     "links": [{"id", "from": [node_id, output_slot], "to": [node_id, input_name], "type",
                "via": [[x, y], ...]}],
     "groups": [{"id", "title", "bounding": [x, y, w, h], "color"}],
     "notes": [{"id", "text", "pos", "size", "markdown", "title", "color", "bgcolor"}],
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

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from .errors import WorkflowError

FORMAT = "nodeflow-workflow"
VERSION = 2
SCHEMA = json.loads((Path(__file__).with_name("nodeflow-workflow.schema.json")).read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


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
    """The (migrated) workflow, checked against the JSON Schema and for references the schema cannot
    express (unique ids, links between nodes that exist); WorkflowError names the broken part."""
    if not isinstance(workflow, dict) or workflow.get("format") != FORMAT:
        raise WorkflowError('not a NodeFlow workflow (no "format": "nodeflow-workflow")')
    workflow = migrate(workflow)
    error = jsonschema.exceptions.best_match(VALIDATOR.iter_errors(workflow))
    if error is not None:
        raise WorkflowError(schema_message(error))
    definitions = workflow.setdefault("subgraphs", [])
    seen = set()
    for definition in definitions:
        if definition["id"] in seen:
            raise WorkflowError(f"subgraph {definition['id']!r} is defined twice")
        seen.add(definition["id"])
        inputs, outputs = definition.setdefault("inputs", []), definition.setdefault("outputs", [])
        name = definition.get("name") or definition["id"]
        check_references(
            definition, f"subgraph {name!r}", io={"@in": len(inputs), "@out": {s["name"] for s in outputs}}
        )
    check_references(workflow, "NodeFlow workflow")
    return workflow


def schema_message(error: jsonschema.ValidationError) -> str:
    """Where the workflow breaks the schema (a JSON path), what is there and what is expected."""
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"NodeFlow workflow: {error.json_path}: {message}" + (f" (expected: {expected})" if expected else "")


def check_references(graph: dict, where: str, io: dict | None = None) -> None:
    """Unique node ids; links between nodes that exist (or, inside a subgraph, from "@in" slots and
    to "@out" names that exist). The shapes were checked by the schema."""
    ids = set()
    for node in graph["nodes"]:
        if node["id"] in ids:
            raise WorkflowError(f"{where}: node id {node['id']!r} is used twice")
        ids.add(node["id"])
    for link in graph["links"]:
        (src, slot), (dst, name) = link["from"], link["to"]
        if io is not None and src == "@in":
            if not slot < io["@in"]:
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

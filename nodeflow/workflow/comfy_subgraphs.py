"""ComfyUI subgraphs (frontend workflow schema, version 1) <-> NodeFlow subgraph definitions.

A ComfyUI file keeps definitions under ``definitions.subgraphs`` (a definition may hold its own
``definitions`` for nested subgraphs); each has a uuid ``id``, ``name``, ``inputs``/``outputs``
(slots with a uuid ``id``, ``name``, ``type`` and ``linkIds``), ``inputNode``/``outputNode`` (ids -10
and -20: inner links start at -10 and end at -20, the slot being the subgraph input/output index),
``widgets`` and the usual ``nodes``/``links`` (objects)/``groups``. An instance is a node whose
``type`` is a definition id; ``properties.proxyWidgets`` ([[inner node id, widget name], ...], "-1"
for the instance's own input widgets) lists the promoted widgets and ``widgets_values`` holds their
values in that order (without proxyWidgets: the values of the inputs that carry a ``widget``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import WorkflowError

IO_INPUT, IO_OUTPUT = "-10", "-20"
KEPT = ("revision", "description", "category", "extra", "config")  # carried through untouched
SLOT_KEPT = ("label", "localized_name", "color_on", "color_off", "shape", "pos")


def collect_definitions(workflow: dict, found: dict | None = None, depth: int = 0) -> dict[str, dict]:
    """Every definition in the file (nested ``definitions`` included), by id."""
    found = {} if found is None else found
    if depth > 32:
        raise WorkflowError("ComfyUI workflow: subgraph definitions are nested more than 32 deep")
    subgraphs = ((workflow.get("definitions") or {}).get("subgraphs")) or []
    if not isinstance(subgraphs, list):
        raise WorkflowError("ComfyUI workflow: 'definitions.subgraphs' must be a list")
    for raw in subgraphs:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise WorkflowError(f"ComfyUI workflow: a subgraph definition needs a string 'id' (got {str(raw)[:80]})")
        if not isinstance(raw.get("nodes"), list):
            raise WorkflowError(f"ComfyUI subgraph {raw.get('name') or raw['id']!r}: 'nodes' must be a list")
        found.setdefault(raw["id"], raw)
        collect_definitions(raw, found, depth + 1)
    return found


def _slots(raw: list | None) -> list[dict]:
    slots = []
    for slot in raw or []:
        if not isinstance(slot, dict) or not isinstance(slot.get("name"), str):
            raise WorkflowError(f"ComfyUI subgraph: every input/output needs a 'name' (got {str(slot)[:80]})")
        slots.append(
            {
                "id": slot.get("id"),
                "name": slot["name"],
                "type": slot.get("type") or "*",
                **{k: slot[k] for k in SLOT_KEPT if k in slot},
            }
        )
    return slots


def definition_from_comfy(raw: dict, inner: dict) -> dict:
    """A ComfyUI definition plus its imported inner graph -> a NodeFlow definition."""
    return {
        "id": raw["id"],
        "name": raw.get("name") or raw["id"],
        "inputs": _slots(raw.get("inputs")),
        "outputs": _slots(raw.get("outputs")),
        "widgets": [dict(w) for w in raw.get("widgets") or [] if isinstance(w, dict)],
        "io_nodes": {
            "input": (raw.get("inputNode") or {}).get("bounding"),
            "output": (raw.get("outputNode") or {}).get("bounding"),
        },
        "nodes": inner["nodes"],
        "links": inner["links"],
        "groups": inner["groups"],
        "notes": inner["notes"],
        **{k: raw[k] for k in KEPT if k in raw},
    }


def proxy_widgets(node: dict) -> list[list]:
    """``properties.proxyWidgets`` as a list of [node id, widget name] (it may be a JSON string)."""
    raw = (node.get("properties") or {}).get("proxyWidgets")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise WorkflowError(f"ComfyUI node {node.get('id')}: properties.proxyWidgets is not valid JSON") from None
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(e, list) and len(e) >= 2 for e in raw):
        raise WorkflowError(
            f"ComfyUI node {node.get('id')}: properties.proxyWidgets must be a list of [node id, widget name]"
        )
    return [[str(e[0]), str(e[1])] for e in raw]


def instance_from_comfy(node: dict, point: Callable, mode_names: dict) -> dict:
    """A ComfyUI subgraph node -> a NodeFlow instance (values by input name; promoted widgets)."""
    nid = str(node["id"])
    values = node.get("widgets_values")
    values = list(values) if isinstance(values, list) else []
    widgets: dict[str, Any] = {}
    promoted: list[dict] = []
    proxies = proxy_widgets(node)
    if proxies:
        for index, (inner, name) in enumerate(proxies):
            value = values[index] if index < len(values) else None
            if inner == "-1":
                promoted.append({"node": "-1", "widget": name})
                if value is not None:
                    widgets[name] = value
            else:
                promoted.append({"node": inner, "widget": name, **({"value": value} if value is not None else {})})
    else:
        names = [i["name"] for i in node.get("inputs") or [] if isinstance(i, dict) and i.get("widget")]
        widgets = {name: value for name, value in zip(names, values, strict=False) if value is not None}
    properties = {k: v for k, v in (node.get("properties") or {}).items() if k != "proxyWidgets"}
    return {
        "id": nid,
        "type": node["type"],
        "pos": point(node.get("pos"), [0, 0]),
        "size": point(node.get("size"), [200, 100]),
        "title": node.get("title"),
        "color": node.get("color"),
        "bgcolor": node.get("bgcolor"),
        "mode": mode_names.get(node.get("mode", 0), "active"),
        "collapsed": bool((node.get("flags") or {}).get("collapsed")),
        "widgets": widgets,
        "controls": {},
        **({"promoted": promoted} if proxies else {}),
        **({"properties": properties} if properties else {}),
    }


def instance_values(node: dict, widget_names: list[str]) -> tuple[list, list | None]:
    """(widgets_values, proxyWidgets or None) for a NodeFlow instance."""
    widgets = node.get("widgets") or {}
    promoted = node.get("promoted")
    if not promoted:
        return [widgets.get(name) for name in widget_names], None
    values = [widgets.get(e["widget"]) if str(e["node"]) == "-1" else e.get("value") for e in promoted]
    return values, [[str(e["node"]), e["widget"]] for e in promoted]


def definition_to_comfy(definition: dict, graph: dict) -> dict:
    """A NodeFlow definition plus its exported inner graph (nodes, link objects, groups) -> ComfyUI."""
    links = graph["links"]

    def slots(side: str, end: str) -> list[dict]:
        result = []
        for index, slot in enumerate(definition.get(side) or []):
            ids = [
                link["id"]
                for link in links
                if str(link[end + "_id"]) == (IO_INPUT if side == "inputs" else IO_OUTPUT)
                and link[end + "_slot"] == index
            ]
            result.append(
                {
                    "id": slot.get("id"),
                    "name": slot["name"],
                    "type": slot.get("type") or "*",
                    **{k: slot[k] for k in SLOT_KEPT if k in slot},
                    "linkIds": ids,
                }
            )
        return result

    io_nodes = definition.get("io_nodes") or {}
    nodes = graph["nodes"]
    return {
        "id": definition["id"],
        "version": 1,
        "state": {
            "lastGroupId": len(graph["groups"]),
            "lastNodeId": max((n["id"] for n in nodes), default=0),
            "lastLinkId": max((link["id"] for link in links), default=0),
            "lastRerouteId": 0,
        },
        "revision": definition.get("revision", 0),
        "config": definition.get("config") or {},
        "name": definition.get("name") or definition["id"],
        "inputNode": {"id": int(IO_INPUT), "bounding": io_nodes.get("input") or [-200, 0, 120, 60]},
        "outputNode": {"id": int(IO_OUTPUT), "bounding": io_nodes.get("output") or [600, 0, 120, 60]},
        "inputs": slots("inputs", "origin"),
        "outputs": slots("outputs", "target"),
        "widgets": [dict(w) for w in definition.get("widgets") or []],
        "nodes": nodes,
        "groups": graph["groups"],
        "links": links,
        **{k: definition[k] for k in KEPT if k in definition and k not in ("revision", "config")},
        **({} if "extra" in definition else {"extra": {}}),
    }

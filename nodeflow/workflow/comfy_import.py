"""ComfyUI editor workflows (0.4 with link arrays, 1.x with link objects) -> NodeFlow workflows.
Subgraph definitions (``definitions.subgraphs``, nested ones too) and instances: comfy_subgraphs.py."""

from __future__ import annotations

from typing import Any

from . import model
from .comfy_subgraphs import IO_INPUT, IO_OUTPUT, collect_definitions, definition_from_comfy, instance_from_comfy
from .errors import WorkflowError, warning
from .widgets import defaults_warning, fill_defaults, values_by_name

EDITOR_ONLY = {"PrimitiveNode", "Reroute", "Note", "MarkdownNote"}
MODE_NAMES = {0: "active", 2: "muted", 4: "bypassed"}


def _links(workflow: dict) -> dict[int, dict]:
    """Every link as {id, origin_id, origin_slot, target_id, target_slot, type}, by id."""
    links = workflow.get("links") or []
    if not isinstance(links, list):
        raise WorkflowError("ComfyUI workflow: 'links' must be a list")
    result = {}
    for link in links:
        if isinstance(link, list) and len(link) >= 6:
            entry = dict(
                zip(("id", "origin_id", "origin_slot", "target_id", "target_slot", "type"), link[:6], strict=False)
            )
        elif isinstance(link, dict):
            entry = link
        else:
            raise WorkflowError(
                f"ComfyUI workflow: a link must be [id, from, slot, to, slot, type], got {str(link)[:80]}"
            )
        result[entry["id"]] = entry
    return result


def _nodes(workflow: dict) -> dict[str, dict]:
    nodes = workflow.get("nodes")
    if not isinstance(nodes, list):
        raise WorkflowError("ComfyUI workflow: 'nodes' must be a list")
    result = {}
    for node in nodes:
        if not isinstance(node, dict) or "id" not in node or not isinstance(node.get("type"), str):
            raise WorkflowError(f"ComfyUI workflow: every node needs an 'id' and a 'type' (got {str(node)[:80]})")
        result[str(node["id"])] = node
    return result


def _point(value: Any, default: list) -> list[float]:
    """Positions and sizes come as [x, y] or, in older files, as {"0": x, "1": y}."""
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    try:
        return [float(value[0]), float(value[1])]
    except (TypeError, ValueError, IndexError, KeyError):
        return list(default)


def _input_name(node: dict, slot: int) -> str | None:
    inputs = node.get("inputs") or []
    if 0 <= slot < len(inputs):
        return inputs[slot].get("name")
    return None


def _resolve_source(
    nodes: dict, links: dict, link_id: Any, via: list | None = None, depth: int = 0
) -> tuple[str, int] | None:
    """Follow Reroute nodes back to the real (node id, output slot); their positions go to ``via``
    (source first), which the NodeFlow format keeps as the link's reroute points. Inside a subgraph,
    a link from its input node comes from ("@in", slot)."""
    link = links.get(link_id)
    if link is None or depth > 100:
        return None
    if str(link["origin_id"]) == IO_INPUT:
        return "@in", int(link["origin_slot"])
    origin = nodes.get(str(link["origin_id"]))
    if origin is None:
        return None
    if origin["type"] == "Reroute":
        inputs = origin.get("inputs") or []
        if via is not None:
            via.insert(0, _point(origin.get("pos"), [0, 0]))
        return _resolve_source(nodes, links, inputs[0].get("link"), via, depth + 1) if inputs else None
    return str(link["origin_id"]), int(link["origin_slot"])


def import_comfy(workflow: dict, object_info: dict) -> tuple[dict, list[dict]]:
    raw_definitions = collect_definitions(workflow)
    result, warnings = import_graph(workflow, object_info, raw_definitions)
    for raw in raw_definitions.values():
        inner, more = import_graph(raw, object_info, raw_definitions, io=raw)
        result["subgraphs"].append(definition_from_comfy(raw, inner))
        name = raw.get("name") or raw["id"]
        warnings += [{**w, "message": f"in subgraph {name!r}: {w['message']}"} for w in more]
    return result, warnings


def import_graph(
    workflow: dict, object_info: dict, raw_definitions: dict, io: dict | None = None
) -> tuple[dict, list[dict]]:
    """One graph level (the workflow, or a subgraph definition when ``io`` is that definition)."""
    nodes, links = _nodes(workflow), _links(workflow)
    result, warnings = model.empty(), []
    primitive_values: dict[tuple[str, str], Any] = {}
    for node in nodes.values():
        if node["type"] != "PrimitiveNode":
            continue
        value = (node.get("widgets_values") or [None])[0]
        for output in node.get("outputs") or []:
            for link_id in output.get("links") or []:
                link = links.get(link_id)
                if link:
                    target = nodes.get(str(link["target_id"]))
                    name = _input_name(target, link["target_slot"]) if target else None
                    if name:
                        primitive_values[(str(link["target_id"]), name)] = value

    for nid, node in nodes.items():
        kind = node["type"]
        if kind in ("Note", "MarkdownNote"):
            result["notes"].append(
                {
                    "id": nid,
                    "text": str((node.get("widgets_values") or [""])[0]),
                    "pos": _point(node.get("pos"), [0, 0]),
                    "size": _point(node.get("size"), [300, 120]),
                    "markdown": kind == "MarkdownNote",
                    **{key: node[key] for key in ("color", "bgcolor") if isinstance(node.get(key), str)},
                }
            )
            continue
        if kind in EDITOR_ONLY:
            continue
        if kind in raw_definitions:
            result["nodes"].append(instance_from_comfy(node, _point, MODE_NAMES))
            continue
        info = object_info.get(kind)
        entry = {
            "id": nid,
            "type": kind,
            "version": (node.get("properties") or {}).get("nodeflow_version"),
            "pos": _point(node.get("pos"), [0, 0]),
            "size": _point(node.get("size"), [200, 100]),
            "title": node.get("title"),
            "color": node.get("color"),
            "bgcolor": node.get("bgcolor"),
            "mode": MODE_NAMES.get(node.get("mode", 0), "active"),
            "collapsed": bool((node.get("flags") or {}).get("collapsed")),
            **({"pinned": True} if (node.get("flags") or {}).get("pinned") else {}),
            "widgets": {},
            "controls": {},
        }
        if info is None:
            warnings.append(
                warning(
                    nid,
                    f"unknown node type {kind!r}: install the plugin that provides it; the node is kept but cannot run",
                )
            )
            entry["widgets_values"] = node.get("widgets_values")  # kept so nothing is lost
        else:
            entry["widgets"], entry["controls"] = values_by_name(info, node.get("widgets_values"))
        for (target, name), value in primitive_values.items():
            if target == nid and value is not None:
                entry["widgets"][name] = value
        if info is not None:
            filled, empty = fill_defaults(info, entry["widgets"])
            entry["widgets"].update(filled)
            linked = {
                i.get("name") for i in node.get("inputs") or [] if isinstance(i, dict) and i.get("link") is not None
            }
            filled = {k: v for k, v in filled.items() if k not in linked}  # a link feeds these: no news
            empty = [k for k in empty if k not in linked]
            if filled or empty:
                warnings.append(defaults_warning(nid, kind, filled, empty))
        result["nodes"].append(entry)

    kept = {n["id"] for n in result["nodes"]}
    outputs = (io or {}).get("outputs") or []
    for link in links.values():
        target = str(link["target_id"])
        if io is not None and target == IO_OUTPUT and 0 <= int(link["target_slot"]) < len(outputs):
            target, name = "@out", outputs[int(link["target_slot"])].get("name")
        elif target not in kept:
            continue
        elif nodes[target]["type"] in raw_definitions:  # an instance: its inputs are the definition's, by slot
            slots = raw_definitions[nodes[target]["type"]].get("inputs") or []
            slot = int(link["target_slot"])
            name = slots[slot].get("name") if 0 <= slot < len(slots) else None
        else:
            name = _input_name(nodes[target], link["target_slot"])
        via: list = []
        source = _resolve_source(nodes, links, link["id"], via)
        if name is None or source is None or (source[0] not in kept and source[0] != "@in"):
            continue
        result["links"].append(
            {
                "id": link["id"],
                "from": [source[0], source[1]],
                "to": [target, name],
                "type": link.get("type"),
                **({"via": via} if via else {}),
            }
        )
    for group in workflow.get("groups") or []:
        if isinstance(group, dict):
            result["groups"].append(
                {
                    "title": group.get("title", ""),
                    "bounding": group.get("bounding", [0, 0, 0, 0]),
                    "color": group.get("color"),
                }
            )
    ds = (workflow.get("extra") or {}).get("ds") or {}
    if ds:
        result["viewport"] = {"offset": ds.get("offset", [0, 0]), "scale": ds.get("scale", 1.0)}
    return result, warnings

"""NodeFlow workflow -> ComfyUI editor format (0.4), so ComfyUI users can open what we share.
Subgraph definitions go to ``definitions.subgraphs`` in ComfyUI's schema (comfy_subgraphs.py)."""

from __future__ import annotations

from .comfy_subgraphs import IO_INPUT, IO_OUTPUT, definition_to_comfy, instance_values
from .errors import warning
from .subgraphs import widget_inputs
from .widgets import input_specs, is_widget, values_by_position

MODE_NUMBERS = {"active": 0, "muted": 2, "bypassed": 4}


def _int_id(node_id: str, fallback: dict) -> int:
    if node_id.isdigit():
        return int(node_id)
    return fallback.setdefault(node_id, 100000 + len(fallback))


def _expand_via(links: list[dict]) -> tuple[list[dict], list[dict]]:
    """Links with reroute points -> hops through Reroute nodes (links through the same points from
    the same source share them). Returns (links, reroutes [{"id", "pos", "type"}])."""
    numeric = [link["id"] for link in links if isinstance(link.get("id"), int)]
    next_link = max(numeric, default=0) + 1
    expanded, reroutes, by_key = [], [], {}
    for link in links:
        via = link.get("via") or []
        if not via:
            expanded.append(link)
            continue
        source = list(link["from"])
        for i, point in enumerate(via):
            key = repr((link["from"], via[: i + 1]))
            if key not in by_key:
                rid = f"reroute:{len(reroutes) + 1}"
                by_key[key] = rid
                reroutes.append({"id": rid, "pos": list(point), "type": link.get("type") or "*"})
                expanded.append({"id": next_link, "from": source, "to": [rid, ""], "type": link.get("type")})
                next_link += 1
            source = [by_key[key], 0]
        expanded.append({**link, "from": source})
    return expanded, reroutes


def export_comfy(workflow: dict, object_info: dict) -> tuple[dict, list[dict]]:
    defs = {d["id"]: d for d in workflow.get("subgraphs") or []}
    graph, warnings = export_graph(workflow, object_info, defs)
    definitions = []
    for definition in defs.values():
        inner, more = export_graph(definition, object_info, defs, io=definition)
        inner["links"] = [
            dict(zip(("id", "origin_id", "origin_slot", "target_id", "target_slot", "type"), link, strict=False))
            for link in inner["links"]
        ]
        definitions.append(definition_to_comfy(definition, inner))
        warnings += more
    nodes, links = graph["nodes"], graph["links"]
    viewport = workflow.get("viewport") or {}
    return {
        "last_node_id": max((n["id"] for n in nodes), default=0),
        "last_link_id": max((link[0] for link in links), default=0),
        "nodes": nodes,
        "links": links,
        "groups": graph["groups"],
        "config": {},
        "extra": {"ds": {"offset": viewport.get("offset", [0, 0]), "scale": viewport.get("scale", 1.0)}},
        **({"definitions": {"subgraphs": definitions}} if definitions else {}),
        "version": 0.4,
    }, warnings


def export_graph(workflow: dict, object_info: dict, defs: dict, io: dict | None = None) -> tuple[dict, list[dict]]:
    """One graph level -> ComfyUI nodes, links (arrays) and groups; ``io`` is the definition when the
    level is a subgraph (its "@in"/"@out" ends become ComfyUI's input/output nodes, -10/-20)."""
    ids: dict[str, int] = {"@in": int(IO_INPUT), "@out": int(IO_OUTPUT)}
    warnings: list[dict] = []
    all_links, reroutes = _expand_via(workflow["links"])
    incoming = {(link["to"][0], link["to"][1]): link for link in all_links}
    outgoing: dict[tuple[str, int], list[int]] = {}
    for link in all_links:
        outgoing.setdefault((link["from"][0], link["from"][1]), []).append(link["id"])
    nodes, links, order = [], [], 0
    slot_of: dict[tuple[str, str], int] = {
        ("@out", o["name"]): i for i, o in enumerate((io or {}).get("outputs") or [])
    }
    for node in workflow["nodes"]:
        info = object_info.get(node["type"])
        nid = _int_id(node["id"], ids)
        inputs, outputs = [], []
        if node["type"] == "PrimitiveNode":  # editor-only: one output feeding converted widgets
            feeds = [link for link in all_links if link["from"][0] == node["id"]]
            kind = (feeds[0].get("type") if feeds else None) or "*"
            outputs.append(
                {
                    "name": kind,
                    "type": kind,
                    "links": [link["id"] for link in feeds] or None,
                    "slot_index": 0,
                    **({"widget": {"name": feeds[0]["to"][1]}} if feeds else {}),
                }
            )
            value = (node.get("widgets") or {}).get("value")
            control = (node.get("controls") or {}).get("value")
            widgets_values = [value] + ([control] if control else [])
        elif node["type"] in defs:
            definition = defs[node["type"]]
            widget_specs = widget_inputs(definition, defs, object_info)
            for slot_no, slot in enumerate(definition.get("inputs") or []):
                linked = incoming.get((node["id"], slot["name"]))
                slot_of[(node["id"], slot["name"])] = slot_no
                inputs.append(
                    {
                        "name": slot["name"],
                        "type": slot.get("type") or "*",
                        "link": linked["id"] if linked else None,
                        **({"widget": {"name": slot["name"]}} if slot["name"] in widget_specs else {}),
                    }
                )
            for slot_no, slot in enumerate(definition.get("outputs") or []):
                outputs.append(
                    {
                        "name": slot["name"],
                        "type": slot.get("type") or "*",
                        "links": outgoing.get((node["id"], slot_no)) or None,
                    }
                )
            widgets_values, proxies = instance_values(
                node, [s["name"] for s in definition.get("inputs") or [] if s["name"] in widget_specs]
            )
            node = {
                **node,
                "properties": {
                    **(node.get("properties") or {}),
                    **({"proxyWidgets": proxies} if proxies is not None else {}),
                },
            }
        elif info is None:
            warnings.append(warning(node["id"], f"unknown node type {node['type']!r} exported without its inputs"))
            widgets_values = node.get("widgets_values") or list((node.get("widgets") or {}).values())
        else:
            for name, spec, _ in input_specs(info):
                linked = incoming.get((node["id"], name))
                if is_widget(spec) and linked is None:
                    continue
                entry = {
                    "name": name,
                    "type": spec[0] if isinstance(spec[0], str) else "COMBO",
                    "link": linked["id"] if linked else None,
                }
                if is_widget(spec):
                    entry["widget"] = {"name": name}
                slot_of[(node["id"], name)] = len(inputs)
                inputs.append(entry)
            for slot, (kind, name) in enumerate(zip(info.get("output", []), info.get("output_name", []), strict=False)):
                outputs.append(
                    {"name": name, "type": kind, "links": outgoing.get((node["id"], slot)) or None, "slot_index": slot}
                )
            widgets_values = values_by_position(info, node.get("widgets") or {}, node.get("controls") or {})
        order += 1
        nodes.append(
            {
                "id": nid,
                "type": node["type"],
                "pos": node.get("pos", [0, 0]),
                "size": node.get("size", [300, 100]),
                "flags": {
                    **({"collapsed": True} if node.get("collapsed") else {}),
                    **({"pinned": True} if node.get("pinned") else {}),
                },
                "order": order,
                "mode": MODE_NUMBERS.get(node.get("mode", "active"), 0),
                "inputs": inputs,
                "outputs": outputs,
                "properties": node["properties"]
                if node["type"] in defs
                else {"Node name for S&R": node["type"], "nodeflow_version": node.get("version")},
                "widgets_values": widgets_values,
                **({"title": node["title"]} if node.get("title") else {}),
                **({"color": node["color"]} if node.get("color") else {}),
                **({"bgcolor": node["bgcolor"]} if node.get("bgcolor") else {}),
            }
        )
    for reroute in reroutes:
        order += 1
        rid = reroute["id"]
        slot_of[(rid, "")] = 0
        feed = incoming.get((rid, ""))
        nodes.append(
            {
                "id": _int_id(rid, ids),
                "type": "Reroute",
                "pos": reroute["pos"],
                "size": [75, 26],
                "flags": {},
                "order": order,
                "mode": 0,
                "inputs": [{"name": "", "type": "*", "link": feed["id"] if feed else None}],
                "outputs": [
                    {"name": "", "type": reroute["type"], "links": outgoing.get((rid, 0)) or None, "slot_index": 0}
                ],
                "properties": {"showOutputText": False, "horizontal": False},
            }
        )
    for link in all_links:
        (src, slot), (dst, name) = link["from"], link["to"]
        if (dst, name) not in slot_of:
            continue
        links.append(
            [link["id"], _int_id(src, ids), slot, _int_id(dst, ids), slot_of[(dst, name)], link.get("type") or "*"]
        )
    for note in workflow.get("notes") or []:
        order += 1
        nodes.append(
            {
                "id": _int_id(str(note["id"]), ids),
                "type": "MarkdownNote" if note.get("markdown") else "Note",
                "pos": note.get("pos", [0, 0]),
                "size": note.get("size", [300, 120]),
                "flags": {},
                "order": order,
                "mode": 0,
                "inputs": [],
                "outputs": [],
                "properties": {},
                "widgets_values": [note.get("text", "")],
                **{key: note[key] for key in ("color", "bgcolor") if note.get(key)},
            }
        )
    groups = [
        {
            "title": g.get("title", ""),
            "bounding": g.get("bounding", [0, 0, 0, 0]),
            "color": g.get("color") or "#3f789e",
            "font_size": 24,
            "flags": {},
        }
        for g in workflow.get("groups") or []
    ]
    return {"nodes": nodes, "links": links, "groups": groups}, warnings

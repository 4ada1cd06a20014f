"""API prompt -> NodeFlow workflow, laid out in readable columns by dependency depth."""

from __future__ import annotations

import networkx as nx

from nodeflow.graph.prompt import is_link

from . import model
from .errors import WorkflowError, warning
from .widgets import input_specs, is_widget

COLUMN, ROW = 380, 40


def import_api(prompt: dict, object_info: dict) -> tuple[dict, list[dict]]:
    if not isinstance(prompt, dict) or not all(isinstance(v, dict) and "class_type" in v for v in prompt.values()):
        raise WorkflowError("not an API prompt: expected {node_id: {class_type, inputs}}")
    result, warnings = model.empty(), []
    by_id = {str(k): v for k, v in prompt.items()}
    graph = nx.DiGraph()
    graph.add_nodes_from(by_id)
    link_id = 0
    for nid, node in by_id.items():
        kind = node["class_type"]
        info = object_info.get(kind)
        if info is None:
            warnings.append(warning(nid, f"unknown node type {kind!r}: install the plugin that provides it"))
        widget_inputs = {n for n, spec, _ in input_specs(info)} if info else set()
        entry = {
            "id": nid,
            "type": kind,
            "version": None,
            "pos": [0, 0],
            "size": [320, 120],
            "title": (node.get("_meta") or {}).get("title"),
            "color": None,
            "bgcolor": None,
            "mode": "active",
            "collapsed": False,
            "widgets": {},
            "controls": {},
        }
        for name, value in (node.get("inputs") or {}).items():
            if is_link(value):
                src = str(value[0])
                if src not in graph:
                    raise WorkflowError(f"node {nid}: input {name!r} links to missing node {src!r}")
                link_id += 1
                out_type = None
                src_info = object_info.get(by_id[src]["class_type"])
                if src_info and 0 <= value[1] < len(src_info.get("output", [])):
                    out_type = src_info["output"][value[1]]
                result["links"].append({"id": link_id, "from": [src, value[1]], "to": [nid, name], "type": out_type})
                graph.add_edge(src, nid)
            else:
                if isinstance(value, dict) and set(value) == {"__value__"}:
                    value = value["__value__"]
                if info is None or name in widget_inputs:
                    entry["widgets"][name] = value
        result["nodes"].append(entry)
    if not nx.is_directed_acyclic_graph(graph):
        raise WorkflowError("the prompt's links form a cycle; it cannot be laid out or run")
    positions = {}
    for column, generation in enumerate(nx.topological_generations(graph)):
        y = 0
        for nid in sorted(generation, key=lambda n: (len(n), n)):
            positions[nid] = [column * COLUMN, y]
            node = next(n for n in result["nodes"] if n["id"] == nid)
            info = object_info.get(node["type"]) or {}
            rows = (
                1
                + max(len(info.get("output", [])), sum(1 for _, s, _ in input_specs(info) if not is_widget(s)))
                + len(node["widgets"])
            )
            node["size"] = [320, 30 + rows * 24]
            y += node["size"][1] + ROW
    for node in result["nodes"]:
        node["pos"] = positions[node["id"]]
    return result, warnings

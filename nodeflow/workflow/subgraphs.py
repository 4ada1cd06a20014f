"""Subgraphs in the NodeFlow format: what an instance exposes, and flattening for the API.

A definition (an entry of ``workflow["subgraphs"]``) is a graph of its own with ``inputs`` and
``outputs`` ([{id, name, type}]). Inside it, a link ``from: ["@in", k]`` reads the instance's k-th
input and a link ``to: ["@out", name]`` feeds the instance's output of that name. An instance is a
node whose ``type`` is the definition's id; its ``widgets`` hold values, by input name, for inputs
that feed widgets inside, and ``promoted`` lists inner widgets shown on the instance
([{"node": inner id, "widget": name, "value": ...}]; node "-1" names one of its own inputs, as
ComfyUI's ``proxyWidgets`` does).

``flatten`` replaces every instance by its inner nodes with ComfyUI's ids ("outer:inner", nested
"a:b:c"), rewires links across the boundaries and writes the instance's values into the inner
widgets, so the rest of the converter (bypass, mute, defaults) sees one flat graph.
"""

from __future__ import annotations

from .errors import WorkflowError
from .widgets import input_specs, is_widget

IN, OUT = "@in", "@out"
MAX_DEPTH = 32


def definitions(workflow: dict) -> dict[str, dict]:
    return {d["id"]: d for d in workflow.get("subgraphs") or []}


def slot_index(definition: dict, side: str, name: str) -> int | None:
    for index, slot in enumerate(definition.get(side) or []):
        if slot["name"] == name:
            return index
    return None


def widget_inputs(definition: dict, defs: dict, object_info: dict, depth: int = 0) -> dict[str, dict]:
    """The definition's inputs that feed a widget inside ({input name: the inner input spec}), so an
    instance shows them as widgets when nothing is linked to them."""
    if depth > MAX_DEPTH:
        raise WorkflowError(f"subgraph {definition.get('name')!r} contains itself")
    nodes = {n["id"]: n for n in definition.get("nodes") or []}
    found: dict[str, dict] = {}
    for link in definition.get("links") or []:
        if link["from"][0] != IN:
            continue
        slot = link["from"][1]
        target = nodes.get(link["to"][0])
        if target is None or slot >= len(definition["inputs"]):
            continue
        spec = None
        if target["type"] in defs:
            spec = widget_inputs(defs[target["type"]], defs, object_info, depth + 1).get(link["to"][1])
        else:
            specs = {name: s for name, s, _ in input_specs(object_info.get(target["type"]) or {})}
            candidate = specs.get(link["to"][1])
            spec = candidate if candidate is not None and is_widget(candidate) else None
        if spec is not None:
            found.setdefault(definition["inputs"][slot]["name"], spec)
    return found


class _Level:
    """One graph level being flattened: its nodes, links, and each instance's expansion."""

    def __init__(self, nodes: list[dict], links: list[dict], defs: dict, stack: tuple[str, ...]):
        self.defs = defs
        self.nodes = {n["id"]: n for n in nodes}
        self.links = links
        self.into_index = {(link["to"][0], link["to"][1]): link for link in links}
        self.from_index: dict[tuple, list[dict]] = {}
        for link in links:
            self.from_index.setdefault((link["from"][0], link["from"][1]), []).append(link)
        self.inner: dict[str, tuple[list[dict], list[dict]]] = {}  # instance id -> flat (nodes, links)
        for node in nodes:
            if node["type"] in defs:
                self.inner[node["id"]] = self._expand(node, stack)

    def _expand(self, instance: dict, stack: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
        definition = self.defs[instance["type"]]
        if definition["id"] in stack or len(stack) >= MAX_DEPTH:
            raise WorkflowError(
                f"subgraph {definition.get('name') or definition['id']!r} contains itself "
                f"(instance {instance['id']}); a subgraph cannot hold an instance of itself"
            )
        # copies deep enough for what flattening changes (ids, modes, widget values by name)
        nodes = [{**n, "widgets": dict(n.get("widgets") or {})} for n in definition.get("nodes") or []]
        by_id = {n["id"]: n for n in nodes}
        for entry in instance.get("promoted") or []:
            target = by_id.get(str(entry.get("node")))
            if target is not None and "value" in entry:
                target.setdefault("widgets", {})[entry["widget"]] = entry["value"]
        mode = instance.get("mode", "active")
        if mode != "active":
            for node in nodes:
                node["mode"] = mode if node.get("mode", "active") == "active" else node["mode"]
        flat_nodes, flat_links = _Level(
            nodes, definition.get("links") or [], self.defs, (*stack, definition["id"])
        ).flatten()
        prefix = instance["id"] + ":"

        def rename(end: list) -> list:
            return end if end[0] in (IN, OUT) else [prefix + end[0], end[1]]

        for node in flat_nodes:
            node["id"] = prefix + node["id"]
        links = [
            {**link, "id": f"{prefix}{link.get('id')}", "from": rename(link["from"]), "to": rename(link["to"])}
            for link in flat_links
        ]
        return flat_nodes, links

    def _into(self, node_id: str, name: str) -> dict | None:
        return self.into_index.get((node_id, name))

    def source(self, node_id: str, slot: int, depth: int = 0) -> list | None:
        """The flat [node, slot] an output of this level really comes from (["@in", k] stays for
        the level above); None when nothing feeds it."""
        if node_id not in self.inner or depth > 10000:
            return [node_id, slot]
        definition = self.defs[self.nodes[node_id]["type"]]
        if slot >= len(definition["outputs"]):
            return None
        name = definition["outputs"][slot]["name"]
        for link in self.inner[node_id][1]:
            if link["to"] == [OUT, name]:
                if link["from"][0] != IN:
                    return link["from"]
                feed = self._into(node_id, definition["inputs"][link["from"][1]]["name"])
                return self.source(feed["from"][0], feed["from"][1], depth + 1) if feed else None
        return None

    def targets(self, node_id: str, name: str, depth: int = 0) -> list[list]:
        """The flat [node, input] ends a link into ``node_id.name`` really reaches."""
        if node_id not in self.inner or depth > 10000:
            return [[node_id, name]]
        definition = self.defs[self.nodes[node_id]["type"]]
        slot = slot_index(definition, "inputs", name)
        found = []
        for link in self.inner[node_id][1]:
            if link["from"] != [IN, slot]:
                continue
            if link["to"][0] != OUT:
                found.append(link["to"])
                continue
            out_slot = slot_index(definition, "outputs", link["to"][1])  # passed straight through
            for onward in self.from_index.get((node_id, out_slot), []):
                found += self.targets(onward["to"][0], onward["to"][1], depth + 1)
        return found

    def flatten(self) -> tuple[list[dict], list[dict]]:
        nodes: list[dict] = []
        for node in self.nodes.values():
            nodes += self.inner[node["id"]][0] if node["id"] in self.inner else [node]
        flat_by_id = {n["id"]: n for n in nodes}
        links: list[dict] = []
        for _, inner_links in self.inner.values():  # links wholly inside an instance
            links += [link for link in inner_links if link["from"][0] != IN and link["to"][0] != OUT]
        for link in self.links:
            src = self.source(link["from"][0], link["from"][1])
            if src is None:
                continue
            for dst in self.targets(link["to"][0], link["to"][1]):
                if dst[0] == OUT or dst[0] in flat_by_id:
                    links.append({**link, "from": list(src), "to": list(dst)})
        for iid in self.inner:  # the instance's values for inputs nothing links to
            instance = self.nodes[iid]
            for name, value in (instance.get("widgets") or {}).items():
                if value is None or self._into(iid, name) is not None:
                    continue
                for dst in self.targets(iid, name):
                    if dst[0] in flat_by_id:
                        flat_by_id[dst[0]].setdefault("widgets", {})[dst[1]] = value
        return nodes, links


def flatten(workflow: dict) -> dict:
    """The workflow with every subgraph instance replaced by its inner nodes ("outer:inner" ids)."""
    defs = definitions(workflow)
    if not defs:
        return workflow
    if not any(n["type"] in defs for n in workflow["nodes"]):
        return {**workflow, "subgraphs": []}
    nodes, links = _Level(workflow["nodes"], workflow["links"], defs, ()).flatten()
    return {**workflow, "nodes": nodes, "links": links, "subgraphs": []}

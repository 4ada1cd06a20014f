"""NodeFlow workflow -> API prompt: muted nodes dropped, bypassed nodes passed through by type.

The editor builds the same prompt in web/js/model/prompt.js; tests/workflow/test_prompt_builders_agree.py
runs both on the same workflows and compares them."""

from __future__ import annotations

from .comfy_import import EDITOR_ONLY
from .errors import warning
from .widgets import defaults_warning, fill_defaults, input_specs, is_widget


def _output_type(object_info: dict, node: dict, slot: int) -> str | None:
    outputs = (object_info.get(node["type"]) or {}).get("output") or []
    return outputs[slot] if 0 <= slot < len(outputs) else None


def to_api_prompt(workflow: dict, object_info: dict) -> tuple[dict, list[dict]]:
    nodes = {n["id"]: n for n in workflow["nodes"]}
    incoming: dict[str, dict[str, tuple[str, int, str | None]]] = {}
    for link in workflow["links"]:
        (src, slot), (dst, name) = link["from"], link["to"]
        incoming.setdefault(dst, {})[name] = (src, slot, link.get("type"))
    warnings: list[dict] = []

    def source_of(src: str, slot: int, wanted: str | None, seen: frozenset = frozenset()) -> tuple[str, int] | None:
        """Where a link really comes from once bypassed nodes are passed through."""
        node = nodes.get(src)
        if node is None or src in seen:
            return None
        mode = node.get("mode", "active")
        if mode == "muted":
            return None
        if mode == "bypassed":
            want = wanted or _output_type(object_info, node, slot)
            for up, up_slot, up_type in incoming.get(src, {}).values():
                if up_type == want or (up_type is None and want is None):
                    return source_of(up, up_slot, want, seen | {src})
            return None
        if node["type"] not in object_info:
            return None
        return src, slot

    prompt: dict[str, dict] = {}
    for nid, node in nodes.items():
        if node.get("mode", "active") != "active" or node["type"] in EDITOR_ONLY:
            continue  # editor-only nodes (a PrimitiveNode's value is already in the widgets it feeds)
        info = object_info.get(node["type"])
        if info is None:
            warnings.append(
                warning(nid, f"unknown node type {node['type']!r} left out: install the plugin that provides it")
            )
            continue
        inputs: dict = {}
        widgets = node.get("widgets") or {}
        for name, spec, _ in input_specs(info):
            link = incoming.get(nid, {}).get(name)
            if link is not None:
                source = source_of(link[0], link[1], link[2])
                if source is not None:
                    inputs[name] = [source[0], source[1]]
                    continue
                if not is_widget(spec):
                    warnings.append(warning(nid, f"input {name!r} is fed by a muted or missing node"))
                    continue
            if is_widget(spec) and widgets.get(name) is not None:
                value = widgets[name]
                inputs[name] = {"__value__": value} if isinstance(value, list) else value
        filled, _ = fill_defaults(info, inputs)  # an input with nothing to choose from stays out: validation
        inputs.update(filled)  # names it, and the import already warned about it
        if filled:
            warnings.append(defaults_warning(nid, node["type"], filled, []))
        optional, _ = fill_defaults(info, inputs, sections=("optional",))  # as the editor: every widget has a
        inputs.update(optional)  # value, an optional one its default (silently, as in ComfyUI)
        names = {n for n, _, _ in input_specs(info)}
        warnings.extend(
            warning(nid, f"{node['type']} has no input {name!r} any more; its value was dropped")
            for name in widgets
            if name not in names
        )
        prompt[nid] = {
            "class_type": node["type"],
            "inputs": inputs,
            "_meta": {"title": node.get("title") or info.get("display_name") or node["type"]},
        }
    return prompt, warnings

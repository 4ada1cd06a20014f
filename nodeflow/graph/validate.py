"""Validate an API-format prompt against the registry, with ComfyUI's error types and
``node_errors`` shape. Never raises on bad input: every problem becomes an error record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nodeflow.graph.prompt import is_link, unwrap_literal
from nodeflow.schema.registry import Registry
from nodeflow.schema.spec import InputDecl, NodeSpec
from nodeflow.schema.types import Boolean, Float, InputError, Int, String, types_match

# Core data types that only ever arrive through links.
LINK_ONLY_TYPES = {
    "IMAGE",
    "MASK",
    "LATENT",
    "CONDITIONING",
    "MODEL",
    "CLIP",
    "VAE",
    "NOISE",
    "SAMPLER",
    "SIGMAS",
    "GUIDER",
    "UPSCALE_MODEL",
    "CLIP_VISION",
    "CLIP_VISION_OUTPUT",
    "CONTROL_NET",
    "STYLE_MODEL",
    "GLIGEN",
}


PRIMITIVES = {
    "INT": Int(default=None),
    "FLOAT": Float(default=None),
    "STRING": String(default=None),
    "BOOLEAN": Boolean(default=None),
}


@dataclass
class Validation:
    ok: bool
    error: dict | None = None
    outputs: list[str] = field(default_factory=list)
    node_errors: dict = field(default_factory=dict)


def error(kind: str, message: str, details: str = "", extra_info: dict | None = None) -> dict:
    return {"type": kind, "message": message, "details": details, "extra_info": extra_info or {}}


def _fail(message: str, details: str = "") -> Validation:
    return Validation(ok=False, error=error("invalid_prompt", message, details), node_errors={})


def _check_structure(registry: Registry, prompt: Any) -> Validation | None:
    if not isinstance(prompt, dict):
        return _fail(
            "The prompt must be a JSON object of {node_id: {class_type, inputs}}.", f"got {type(prompt).__name__}"
        )
    if not prompt:
        return Validation(
            ok=False,
            error=error(
                "prompt_no_outputs",
                "Prompt has no outputs",
                "the prompt is empty; add an output node such as SaveImage",
            ),
        )
    for node_id, node in prompt.items():
        if not isinstance(node, dict):
            return _fail(
                f"Node {node_id!s:.60} must be an object with class_type and inputs.",
                f"node {node_id!s:.60}: got {type(node).__name__}",
            )
        class_type = node.get("class_type")
        if not isinstance(class_type, str) or not class_type:
            return _fail(
                "Cannot execute because a node is missing the class_type property.", f"Node ID '#{node_id!s:.60}'"
            )
        if class_type not in registry:
            return _fail(
                f"Cannot execute because node {class_type[:100]} does not exist.",
                f"Node ID '#{node_id!s:.60}'; install the plugin that provides it or remove the node",
            )
        if "inputs" in node and not isinstance(node["inputs"], dict):
            return _fail(
                f"Node {node_id!s:.60} ({class_type}): 'inputs' must be an object.",
                f"got {type(node['inputs']).__name__}",
            )
    return None


def _check_literal(decl: InputDecl, value: Any, env: Any) -> tuple[dict | None, Any]:
    """(error or None, the value as the node will get it). Checks each literal once: a combo
    over a folder lists that folder once per prompt here."""
    value = unwrap_literal(value)
    desc = decl.desc
    extra = {"input_name": decl.name, "input_config": None, "received_value": _short(value)}
    if not desc.is_widget and desc.type_name in PRIMITIVES:
        desc = PRIMITIVES[desc.type_name]  # a primitive socket given a value: check it as that widget would
    elif not desc.is_widget and (desc.type_name == "*" or desc.type_name not in LINK_ONLY_TYPES):
        return None, value  # any-typed and plugin-defined sockets accept literals (an editor widget may supply them)
    if not desc.is_widget:
        return error(
            "invalid_input_type",
            f"Input '{decl.name}' expects a link from a {desc.type_name} output",
            f"{decl.name}: connect an output of type {desc.type_name} instead of a literal value",
            extra,
        ), value
    try:
        checked = desc.check(value, env)
    except InputError as exc:
        return error(exc.kind, exc.message, f"{decl.name}: {exc.details}"[:500], extra), value
    except Exception as exc:  # a broken combo provider must not turn into a 500
        return error(
            "exception_during_validation",
            f"Checking input '{decl.name}' failed: {exc}",
            f"{type(exc).__name__}: {exc}"[:500],
            extra,
        ), value
    return None, (checked if decl.is_widget else value)


def _short(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _node_errors(registry: Registry, env: Any, prompt: dict, node_id: str, graph: nx.DiGraph) -> list[dict]:
    """Errors of one node taken alone; adds an edge to ``graph`` for every good link."""
    node = prompt[node_id]
    spec: NodeSpec = registry.get(node["class_type"])
    inputs = node.get("inputs") or {}
    errors: list[dict] = []
    literals: dict[str, Any] = {}
    for decl in spec.inputs.values():
        if decl.section == "hidden":
            continue
        if decl.name not in inputs:
            if decl.section == "required":
                errors.append(
                    error("required_input_missing", "Required input is missing", decl.name, {"input_name": decl.name})
                )
            continue
        value = inputs[decl.name]
        if isinstance(value, list) and not is_link(value):
            errors.append(
                error(
                    "bad_linked_input",
                    "Bad linked input, must be a length-2 list of [string, int]",
                    f"{decl.name}: got {_short(value)}",
                    {"input_name": decl.name},
                )
            )
            continue
        if is_link(value):
            source_id, slot = str(value[0]), value[1]
            source = prompt.get(source_id)
            if source is None:
                errors.append(
                    error(
                        "bad_linked_input",
                        f"Input '{decl.name}' is linked to node {source_id[:60]}, which is not in the prompt",
                        f"{decl.name}: missing node {source_id[:60]}",
                        {"input_name": decl.name},
                    )
                )
                continue
            source_spec = registry.get(source["class_type"])
            if not 0 <= slot < len(source_spec.outputs):
                errors.append(
                    error(
                        "bad_linked_input",
                        f"Input '{decl.name}' uses output {slot} of node "
                        f"{source_id[:60]} ({source_spec.name}), which has {len(source_spec.outputs)} outputs",
                        f"{decl.name}: output index out of range",
                        {"input_name": decl.name},
                    )
                )
                continue
            out_type = source_spec.outputs[slot].type_name
            if not types_match(out_type, decl.desc.type_name):
                errors.append(
                    error(
                        "return_type_mismatch",
                        "Return type mismatch between linked nodes",
                        f"{decl.name}, received_type({out_type}) mismatch input_type({decl.desc.type_name})",
                        {"input_name": decl.name, "received_type": out_type, "linked_node": [source_id, slot]},
                    )
                )
                continue
            graph.add_edge(source_id, node_id)
            continue
        if decl.name in spec.validate_replaces:  # the node's validate decides (ComfyUI VALIDATE_INPUTS)
            literals[decl.name] = unwrap_literal(value)
            continue
        problem, checked = _check_literal(decl, value, env)
        if problem:
            errors.append(problem)
        else:
            literals[decl.name] = checked
    if not errors and spec.validate is not None:
        try:
            verdict = spec.validate(env, literals)
        except Exception as exc:
            errors.append(
                error(
                    "exception_during_validation",
                    f"Validation of {spec.name} raised {type(exc).__name__}",
                    str(exc)[:500],
                )
            )
        else:
            if verdict is not True:
                errors.append(
                    error("custom_validation_failed", "Custom validation failed for node", f"{verdict}"[:500])
                )
    return errors


def validate_prompt(
    registry: Registry, env: Any, prompt: Any, partial_execution_targets: list[str] | None = None
) -> Validation:
    """Check ``prompt``; return which output nodes can run and the errors of the others."""
    broken = _check_structure(registry, prompt)
    if broken:
        return broken
    prompt = {str(k): v for k, v in prompt.items()}

    outputs = [nid for nid, node in prompt.items() if registry.get(node["class_type"]).output_node]
    if partial_execution_targets is not None:
        if not isinstance(partial_execution_targets, list):
            return _fail("partial_execution_targets must be a list of node ids.")
        wanted = [str(t) for t in partial_execution_targets]
        unknown = [t for t in wanted if t not in prompt]
        if unknown:
            return _fail(f"partial_execution_targets names nodes that are not in the prompt: {unknown[:10]}")
        outputs = [nid for nid in outputs if nid in wanted]
    if not outputs:
        return Validation(
            ok=False,
            error=error(
                "prompt_no_outputs", "Prompt has no outputs", "add an output node such as SaveImage or PreviewImage"
            ),
        )

    graph = nx.DiGraph()
    graph.add_nodes_from(prompt)
    own_errors = {nid: _node_errors(registry, env, prompt, nid, graph) for nid in prompt}

    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            names = ", ".join(sorted(f"{n} ({prompt[n]['class_type']})" for n in component))
            for nid in component:
                own_errors[nid].append(
                    error(
                        "dependency_cycle",
                        f"Dependency cycle between nodes {names}",
                        "remove one of the links that form the loop",
                    )
                )

    node_errors: dict[str, dict] = {}
    good_outputs = []
    for out in outputs:
        needed = nx.ancestors(graph, out) | {out}
        failing = [nid for nid in needed if own_errors[nid]]
        if not failing:
            good_outputs.append(out)
            continue
        for nid in failing:
            entry = node_errors.setdefault(
                nid, {"errors": own_errors[nid], "dependent_outputs": [], "class_type": prompt[nid]["class_type"]}
            )
            entry["dependent_outputs"].append(out)

    if not good_outputs:
        first = next(iter(node_errors.values()))["errors"][0] if node_errors else None
        details = f"{first['message']}: {first['details']}" if first else ""
        return Validation(
            ok=False,
            error=error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details[:500]),
            node_errors=node_errors,
        )
    return Validation(ok=True, outputs=good_outputs, node_errors=node_errors)

"""ComfyUI V3 node classes (``io.ComfyNode``: define_schema / execute ...) -> NodeSpec, unchanged.

A V3 class comes from a pack's ``async def comfy_entrypoint()`` (a ComfyExtension whose
``get_node_list()`` lists the classes) or from NODE_CLASS_MAPPINGS. Its /object_info entry is
rendered from a fresh ``define_schema()`` each time, in ComfyUI's V3 shape.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass
from typing import Any

from nodeflow.engine.async_call import await_now
from nodeflow.engine.results import ExecutionBlocker
from nodeflow.schema.spec import InputDecl, NodeSpec
from nodeflow.schema.types import Boolean, Combo, Float, Input, Int, Output, Socket, String

from .comfy_v1 import _accepts, _pick, spec_from_v1


def is_v3(cls: Any) -> bool:
    return (
        inspect.isclass(cls)
        and callable(getattr(cls, "define_schema", None))
        and callable(getattr(cls, "execute", None))
    )


def spec_from_comfy(cls: type, name: str, display_name: str | None, source: str) -> NodeSpec:
    """A class listed in NODE_CLASS_MAPPINGS: V3 or V1."""
    if is_v3(cls):
        return spec_from_v3(cls, source, name, display_name)
    return spec_from_v1(cls, name, display_name, source)


def specs_from_entrypoint(entrypoint: Any, source: str) -> tuple[list[NodeSpec], list[str]]:
    """Call a pack's ``comfy_entrypoint()`` and read its extension's nodes: (specs, warnings)."""
    extension = await_now(entrypoint())
    if callable(getattr(extension, "on_load", None)):
        await_now(extension.on_load())
    specs, warnings = [], []
    for cls in await_now(extension.get_node_list()) or []:
        try:
            specs.append(spec_from_v3(cls, source))
        except Exception as exc:  # one broken class: report it, load the others
            warnings.append(f"node {getattr(cls, '__name__', cls)} skipped: {type(exc).__name__}: {exc}")
    return specs, warnings


def _schema(cls: type) -> Any:
    return cls.GET_SCHEMA() if callable(getattr(cls, "GET_SCHEMA", None)) else cls.define_schema()


def _overrides(cls: type, hook: str) -> bool:
    method = getattr(cls, hook, None)
    return callable(method) and not getattr(method, "_nodeflow_default", False)


def _live_options(cls: type, input_id: str):
    """Combo options from a fresh define_schema() (folder lists change while the server runs)."""

    def choices(env: Any) -> list:
        found = next((i for i in _schema(cls).inputs if i.id == input_id), None)
        return list(getattr(found, "options", []) or [])

    return choices


def _descriptor(cls: type, item: Any) -> Input:
    """The NodeFlow descriptor that checks a V3 input's literal values."""
    io_type = item.get_io_type()
    common = {
        "optional": bool(item.optional),
        "tooltip": item.tooltip,
        "lazy": bool(item.lazy),
        "force_input": bool(getattr(item, "force_input", None)),
        "raw_link": bool(item.raw_link),
    }
    limits = {k: getattr(item, k, None) for k in ("min", "max", "step")}
    if getattr(item, "multiselect", False):
        return Socket(type_name="COMBO", **common)  # a list of choices: the node checks it
    if io_type == "COMBO":
        return Combo(choices=_live_options(cls, item.id), default=item.default, **common)
    if io_type == "INT":
        return Int(default=item.default, **limits, **common)
    if io_type == "FLOAT":
        return Float(default=item.default, **limits, **common)
    if io_type == "STRING":
        return String(default=item.default, **common)
    if io_type == "BOOLEAN":
        return Boolean(default=item.default, **common)
    return Socket(type_name=io_type, **common)


def _object_info(schema: Any, name: str, source: str) -> dict:
    """The /object_info entry in ComfyUI's V3 shape (see shared/reference/core_nodes_object_info.json)."""
    from comfy_api.latest._node import v1_inputs

    sections = {
        section: {key: list(entry) for key, entry in entries.items()} for section, entries in v1_inputs(schema).items()
    }
    return {
        "input": sections,
        "input_order": {section: list(entries) for section, entries in sections.items()},
        "output": [o.io_type for o in schema.outputs],
        "output_is_list": [bool(o.is_output_list) for o in schema.outputs],
        "output_name": [o.display_name or o.io_type for o in schema.outputs],
        "output_tooltips": [o.tooltip for o in schema.outputs],
        "output_matchtypes": None,
        "name": name,
        "display_name": schema.display_name,
        "description": schema.description,
        "python_module": f"custom_nodes.{source}",
        "category": schema.category,
        "output_node": schema.is_output_node,
        "deprecated": schema.is_deprecated,
        "experimental": schema.is_experimental,
        "api_node": schema.is_api_node,
    }


@dataclass
class V3Spec(NodeSpec):
    node_class: Any = None
    schema: Any = None  # the schema read at load, used when a fresh define_schema() fails

    def object_info(self, env: Any = None) -> dict:
        try:
            schema = _schema(self.node_class)
        except Exception:
            schema = self.schema
        return _object_info(schema, self.name, self.source)


def _result(out: Any) -> Any:
    """A V3 return value in the shape the engine reads (ComfyUI's V1 result dict)."""
    if not hasattr(out, "args") or not hasattr(out, "expand"):
        return out  # a tuple or bare value, tolerated as in V1
    if out.block_execution is not None:
        return {"result": ExecutionBlocker(out.block_execution)}
    ui = out.ui.as_dict() if hasattr(out.ui, "as_dict") else out.ui
    return {"result": tuple(out.args), "ui": ui, "expand": out.expand}


def _hidden_call(holder: Any, func: Any, convert: Any = lambda value: value) -> Any:
    """``func()`` with ``cls.hidden`` set to ``holder``, also while an async result is awaited."""
    from comfy_api.latest._node import HIDDEN

    token = HIDDEN.set(holder)
    try:
        value = func()
    finally:
        HIDDEN.reset(token)
    if not inspect.isawaitable(value):
        return convert(value)

    async def awaited() -> Any:
        inner = HIDDEN.set(holder)
        try:
            return convert(await value)
        finally:
            HIDDEN.reset(inner)

    return awaited()


def spec_from_v3(cls: type, source: str, name: str | None = None, display_name: str | None = None) -> NodeSpec:
    from comfy_api.latest.io import HiddenHolder

    schema = _schema(cls)
    name = name or schema.node_id
    inputs = {
        item.id: InputDecl(item.id, "optional" if item.optional else "required", _descriptor(cls, item))
        for item in schema.inputs
    }
    inputs = dict(sorted(inputs.items(), key=lambda kv: kv[1].section != "required"))
    hidden = {h.name: h.value for h in schema.hidden}
    inputs.update({n: InputDecl(n, "hidden", None, kind) for n, kind in hidden.items()})
    outputs = [
        Output(o.io_type, o.display_name or o.io_type, bool(o.is_output_list), o.tooltip) for o in schema.outputs
    ]

    def holder(kwargs: dict) -> Any:
        return HiddenHolder(**{n: kwargs.pop(n) for n in hidden if n in kwargs})

    def call(obj: Any, kwargs: dict) -> Any:
        kwargs = dict(kwargs)
        return _hidden_call(holder(kwargs), lambda: cls.execute(**kwargs), _result)

    def check_lazy(obj: Any, kwargs: dict) -> Any:
        kwargs = dict(kwargs)
        return _hidden_call(holder(kwargs), lambda: cls.check_lazy_status(**kwargs))

    def fingerprint(env: Any, literals: dict) -> Any:
        return await_now(cls.fingerprint_inputs(**_pick(cls.fingerprint_inputs, literals)))

    validate_names = _accepts(cls.validate_inputs)[0] if _overrides(cls, "validate_inputs") else set()

    def validate(env: Any, literals: dict) -> Any:
        args = _pick(cls.validate_inputs, literals)
        if "input_types" in validate_names:
            args["input_types"] = {}
        return await_now(cls.validate_inputs(**args))

    has_lazy = any(d.desc is not None and d.desc.lazy for d in inputs.values())
    return V3Spec(
        name=name,
        display_name=schema.display_name or display_name or name,
        category=schema.category,
        description=schema.description or "",
        version="v3",
        inputs=inputs,
        outputs=outputs,
        output_node=bool(schema.is_output_node),
        input_is_list=bool(schema.is_input_list),
        deterministic=True,
        idempotent=not schema.not_idempotent,
        make=types.SimpleNamespace,
        call=call,
        fingerprint=fingerprint if _overrides(cls, "fingerprint_inputs") else None,
        validate=validate if validate_names or _overrides(cls, "validate_inputs") else None,
        validate_replaces=frozenset(n for n in validate_names if n in inputs and inputs[n].section != "hidden"),
        check_lazy=check_lazy if has_lazy else None,
        source=source,
        deprecated=bool(schema.is_deprecated),
        experimental=bool(schema.is_experimental),
        node_class=cls,
        schema=schema,
    )

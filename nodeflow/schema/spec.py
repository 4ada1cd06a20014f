"""NodeSpec: the one normalised form every node ends in (built-in, native plugin, or
ComfyUI V1 plugin). The validator, the engine and /object_info all read it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .node import Node, output_list
from .types import Boolean, Combo, Float, Hidden, Input, Int, Output, Socket, String


@dataclass
class InputDecl:
    name: str
    section: str  # "required" | "optional" | "hidden"
    desc: Input | None = None  # None for hidden inputs
    hidden: str | None = None  # "PROMPT" | "EXTRA_PNGINFO" | "UNIQUE_ID" | ...

    @property
    def is_widget(self) -> bool:
        return self.desc is not None and self.desc.is_widget and not self.desc.force_input


@dataclass
class NodeSpec:
    name: str
    display_name: str
    category: str
    description: str
    version: str
    inputs: dict[str, InputDecl]
    outputs: list[Output]
    output_node: bool
    input_is_list: bool
    deterministic: bool  # False: never served from the output cache
    make: Callable[[], Any]  # returns a fresh node object
    call: Callable[[Any, dict], Any]  # (node object, kwargs) -> raw result
    fingerprint: Callable[[Any, dict], Any] | None = None  # (env, literal inputs)
    validate: Callable[[Any, dict], Any] | None = None  # (env, literal inputs) -> True | str
    check_lazy: Callable[[Any, dict], list] | None = None  # (node object, inputs) -> names
    idempotent: bool = True  # False: cached per node id, never shared with another node (NOT_IDEMPOTENT)
    # inputs whose literal values only ``validate`` checks: the built-in range/list/type checks are
    # skipped and the node receives the value as given (ComfyUI: inputs named by VALIDATE_INPUTS)
    validate_replaces: frozenset[str] = frozenset()
    source: str = "builtin"
    deprecated: bool = False
    experimental: bool = False
    extra_info: dict = field(default_factory=dict)

    @property
    def keyed_by_node(self) -> bool:
        """True when this node's output may depend on which node it is: it declares a hidden
        UNIQUE_ID input or is not idempotent. Its cache key then includes the node id."""
        return not self.idempotent or any(d.hidden == "UNIQUE_ID" for d in self.inputs.values())

    def literal_value(self, decl: InputDecl, value: Any, env: Any = None) -> Any:
        """A literal (already unwrapped) as the node receives it: checked and normalised by its
        widget descriptor, or as given when the node's ``validate`` replaces the built-in checks."""
        if not decl.is_widget or decl.name in self.validate_replaces:
            return value
        return decl.desc.check(value, env)

    def object_info(self, env: Any = None) -> dict:
        """The /object_info entry, in ComfyUI's shape."""
        sections: dict[str, dict] = {}
        order: dict[str, list] = {}
        for decl in self.inputs.values():
            if decl.section == "hidden":
                value: Any = decl.hidden
            else:
                value = decl.desc.spec(env)
            sections.setdefault(decl.section, {})[decl.name] = value
            order.setdefault(decl.section, []).append(decl.name)
        sections.setdefault("required", {})
        return {
            "input": sections,
            "input_order": order or {"required": []},
            "output": [o.type_name for o in self.outputs],
            "output_is_list": [o.is_list for o in self.outputs],
            "output_name": [o.name or o.type_name for o in self.outputs],
            "output_tooltips": [o.tooltip for o in self.outputs],
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "python_module": "nodes" if self.source == "builtin" else f"custom_nodes.{self.source}",
            "category": self.category,
            "output_node": self.output_node,
            "deprecated": self.deprecated,
            "experimental": self.experimental,
            "version": self.version,
        }


def spec_from_node_class(cls: type[Node], source: str = "builtin") -> NodeSpec:
    """Read a native Node subclass's declarations into a NodeSpec."""
    name = cls.name or cls.__name__
    inputs: dict[str, InputDecl] = {}
    for input_name, desc in cls.inputs.items():
        if isinstance(desc, Hidden):
            inputs[input_name] = InputDecl(input_name, "hidden", None, desc.kind)
        elif isinstance(desc, Input):
            inputs[input_name] = InputDecl(input_name, "optional" if desc.optional else "required", desc)
        else:
            raise TypeError(f"node {name}: input {input_name!r} must be a descriptor, got {desc!r}")
    # Required inputs first (ComfyUI's input_order), keeping declaration order within each.
    ordered = dict(sorted(inputs.items(), key=lambda kv: ("required", "optional", "hidden").index(kv[1].section)))
    doc = cls.description or inspect.getdoc(cls) or ""
    if doc == inspect.getdoc(Node):
        doc = ""
    has_lazy = any(d.desc is not None and d.desc.lazy for d in ordered.values())
    has_validate = cls.validate.__func__ is not Node.validate.__func__
    replaces = frozenset(cls.validate_replaces)
    unknown = sorted(n for n in replaces if n not in ordered or ordered[n].section == "hidden")
    if unknown:
        raise TypeError(
            f"node {name}: validate_replaces names {unknown}, which are not inputs of the node; "
            f"list names from {sorted(n for n, d in ordered.items() if d.section != 'hidden')}"
        )
    if replaces and not has_validate:
        raise TypeError(
            f"node {name}: validate_replaces {sorted(replaces)} needs a validate classmethod that "
            "checks those inputs, or nothing would"
        )
    return NodeSpec(
        name=name,
        display_name=cls.display_name or name,
        category=cls.category,
        description=doc.strip(),
        version=str(cls.version),
        inputs=ordered,
        outputs=output_list(cls.outputs),
        output_node=bool(cls.output_node),
        input_is_list=bool(cls.input_is_list),
        deterministic=bool(cls.deterministic),
        idempotent=bool(cls.idempotent),
        make=cls,
        call=lambda obj, kwargs: obj.run(**kwargs),
        fingerprint=(lambda env, kw: cls.fingerprint(env, **kw))
        if cls.fingerprint.__func__ is not Node.fingerprint.__func__
        else None,
        validate=(lambda env, kw: cls.validate(env, **kw)) if has_validate else None,
        validate_replaces=replaces,
        check_lazy=(lambda obj, kw: obj.check_lazy(**kw)) if has_lazy else None,
        source=source,
        deprecated=bool(cls.deprecated),
        experimental=bool(cls.experimental),
    )


def descriptor_from_raw(raw: Any, optional: bool = False) -> Input:
    """Turn a ComfyUI ``[type, options]`` input spec (as INPUT_TYPES returns it) into a
    descriptor. Used for V1 plugins; built-in nodes declare descriptors directly."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise TypeError(f"input spec must be [type, options], got {raw!r}")
    type_part = raw[0]
    opts = dict(raw[1]) if len(raw) > 1 and isinstance(raw[1], dict) else {}
    common = {
        "optional": optional,
        "tooltip": opts.pop("tooltip", None),
        "lazy": bool(opts.pop("lazy", False)),
        "force_input": bool(opts.pop("forceInput", False)),
        "raw_link": bool(opts.pop("rawLink", False)),
    }
    if isinstance(type_part, str) and type(type_part) is not str:
        # an "any" type: a str subclass whose __ne__ (or __eq__) says it equals every type name. Kept as
        # it is for link checks (types_match); never compared with "INT", "COMBO", ... below, which it equals
        return Socket(type_name=type_part, extra=opts, **common)
    if isinstance(type_part, (list, tuple)):
        return Combo(
            choices=list(type_part),
            default=opts.pop("default", None),
            image_upload=bool(opts.pop("image_upload", False)),
            extra=opts,
            **common,
        )
    if type_part == "COMBO":
        return Combo(
            choices=list(opts.pop("options", [])),
            default=opts.pop("default", None),
            image_upload=bool(opts.pop("image_upload", False)),
            extra=opts,
            **common,
        )
    if type_part == "INT":
        return Int(
            default=opts.pop("default", 0),
            min=opts.pop("min", None),
            max=opts.pop("max", None),
            step=opts.pop("step", None),
            control_after_generate=bool(opts.pop("control_after_generate", False)),
            display=opts.pop("display", None),
            extra=opts,
            **common,
        )
    if type_part == "FLOAT":
        return Float(
            default=opts.pop("default", 0.0),
            min=opts.pop("min", None),
            max=opts.pop("max", None),
            step=opts.pop("step", None),
            round=opts.pop("round", None),
            display=opts.pop("display", None),
            extra=opts,
            **common,
        )
    if type_part == "STRING":
        return String(
            default=opts.pop("default", ""),
            multiline=bool(opts.pop("multiline", False)),
            placeholder=opts.pop("placeholder", None),
            dynamic_prompts=opts.pop("dynamicPrompts", None),
            extra=opts,
            **common,
        )
    if type_part == "BOOLEAN":
        return Boolean(
            default=opts.pop("default", False),
            label_on=opts.pop("label_on", None),
            label_off=opts.pop("label_off", None),
            extra=opts,
            **common,
        )
    return Socket(type_name=str(type_part), extra=opts, **common)

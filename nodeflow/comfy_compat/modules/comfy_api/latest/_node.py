"""ComfyUI V3 node classes for packs: Schema, ComfyNode, NodeOutput, written for NodeFlow.
nodeflow/plugins/comfy_v3.py turns a ComfyNode subclass into a NodeSpec."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from ._io import Hidden, HiddenHolder, Input, Output

# The hidden values of the V3 call running in this context (``cls.hidden``).
HIDDEN: contextvars.ContextVar[HiddenHolder | None] = contextvars.ContextVar("comfy_v3_hidden", default=None)


@dataclass
class Schema:
    """What a V3 node is: its id, labels, inputs, outputs and flags. /object_info is made from it."""

    node_id: str
    display_name: str = None
    category: str = "sd"
    inputs: list[Input] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    hidden: list[Hidden] = field(default_factory=list)
    description: str = ""
    is_input_list: bool = False
    is_output_node: bool = False
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    not_idempotent: bool = False
    enable_expand: bool = False

    def validate(self) -> None:
        """Raise ValueError when two inputs, or two outputs, share an id."""
        for kind, items in (("input", self.inputs), ("output", self.outputs)):
            ids = [i.id for i in items if i.id is not None]
            doubled = sorted({i for i in ids if ids.count(i) > 1})
            if doubled:
                raise ValueError(f"node {self.node_id}: {kind} ids {doubled} are used more than once")

    def finalize(self) -> None:
        """Output nodes get the hidden prompt and extra_pnginfo (for saved-file metadata), API nodes
        the auth values, and outputs without an id an id of their own (as ComfyUI does)."""
        wanted = []
        if self.is_output_node:
            wanted += [Hidden.prompt, Hidden.extra_pnginfo]
        if self.is_api_node:
            wanted += [Hidden.auth_token_comfy_org, Hidden.api_key_comfy_org]
        self.hidden = list(self.hidden) + [h for h in wanted if h not in self.hidden]
        for index, output in enumerate(self.outputs):
            if output.id is None:
                output.id = f"_{index}_{output.io_type}_"


class NodeOutput:
    """What ``execute`` returns: the outputs in order, optionally ``ui`` (a dict or a ui helper),
    ``expand`` (a GraphBuilder graph to run in place of the node) and ``block_execution`` (a
    message: every output becomes an ExecutionBlocker)."""

    def __init__(self, *args: Any, ui: Any = None, expand: dict | None = None, block_execution: str | None = None):
        self.args = args
        self.ui = ui
        self.expand = expand
        self.block_execution = block_execution

    @property
    def result(self) -> tuple | None:
        return self.args if self.args else None

    @classmethod
    def from_dict(cls, data: dict) -> NodeOutput:
        return cls(
            *tuple(data.get("result") or ()),
            ui=data.get("ui"),
            expand=data.get("expand"),
            block_execution=data.get("block_execution"),
        )

    def __getitem__(self, index: int) -> Any:
        return self.args[index]


class _HiddenAccess:
    """``cls.hidden`` / ``self.hidden``: the hidden values of the running call."""

    def __get__(self, obj: Any, owner: type) -> HiddenHolder:
        return HIDDEN.get() or HiddenHolder()


def v1_inputs(schema: Schema) -> dict:
    """INPUT_TYPES of a V3 node, as ComfyUI derives it (and /object_info shows it)."""
    result: dict = {"required": {}}
    for item in schema.inputs:
        result.setdefault("optional" if item.optional else "required", {})[item.id] = (
            item.get_io_type(),
            item.as_dict(),
        )
    for hidden in schema.hidden:
        result.setdefault("hidden", {})[hidden.name] = (hidden.value,)
    return result


# V1 class attributes a V3 class answers (some packs read them off other nodes' classes)
_V1_VIEWS = {
    "INPUT_TYPES": lambda s: lambda *args, **kwargs: v1_inputs(s),
    "RETURN_TYPES": lambda s: tuple(o.io_type for o in s.outputs),
    "RETURN_NAMES": lambda s: tuple(o.display_name or o.io_type for o in s.outputs),
    "OUTPUT_IS_LIST": lambda s: tuple(bool(o.is_output_list) for o in s.outputs),
    "OUTPUT_TOOLTIPS": lambda s: tuple(o.tooltip for o in s.outputs),
    "OUTPUT_NODE": lambda s: s.is_output_node,
    "INPUT_IS_LIST": lambda s: s.is_input_list,
    "CATEGORY": lambda s: s.category,
    "DESCRIPTION": lambda s: s.description,
    "DEPRECATED": lambda s: s.is_deprecated,
    "EXPERIMENTAL": lambda s: s.is_experimental,
    "NOT_IDEMPOTENT": lambda s: s.not_idempotent,
    "FUNCTION": lambda s: "execute",
}


class _NodeMeta(type):
    def __getattr__(cls, name: str) -> Any:
        view = _V1_VIEWS.get(name)
        if view is None:
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
        return view(cls.GET_SCHEMA())


def _default(func):
    func._nodeflow_default = True  # comfy_v3 only wires the hooks a node overrides
    return func


class ComfyNode(metaclass=_NodeMeta):
    """Base of V3 nodes: classmethods only. ``define_schema()`` -> Schema; ``execute(**inputs)``
    -> NodeOutput (may be ``async``); optional ``validate_inputs``, ``fingerprint_inputs`` (cache-key
    material, like IS_CHANGED) and ``check_lazy_status`` (names of lazy inputs to evaluate)."""

    hidden = _HiddenAccess()

    @classmethod
    def define_schema(cls) -> Schema:
        raise NotImplementedError(f"{cls.__name__}.define_schema is not implemented")

    @classmethod
    def execute(cls, **kwargs: Any) -> NodeOutput:
        raise NotImplementedError(f"{cls.__name__}.execute is not implemented")

    @classmethod
    @_default
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        return True

    @classmethod
    @_default
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        return None

    @classmethod
    def check_lazy_status(cls, **kwargs: Any) -> list[str]:
        """By default every lazy input not evaluated yet (None) is wanted."""
        return [name for name, value in kwargs.items() if value is None]

    @classmethod
    def GET_SCHEMA(cls) -> Schema:
        schema = cls.define_schema()
        schema.validate()
        schema.finalize()
        return schema

"""ComfyUI-style node classes backed by NodeFlow's built-in nodes, for the comfy_extras shims.

Packs instantiate ComfyUI's core node classes and call their method (``BasicScheduler().get_sigmas(
model, "karras", 20, 1.0)``), call the V3 ``execute`` classmethod, or subclass them and register
the subclass as their own node. ``comfy_node(Builtin, "get_sigmas")`` makes such a class from a
NodeFlow built-in: INPUT_TYPES / RETURN_TYPES / FUNCTION / CATEGORY read from the built-in's
schema, the method runs the built-in's ``run`` (with the running node's context), ``execute``
returns a NodeOutput."""
from __future__ import annotations

import inspect
from typing import Any, Callable

from nodeflow.engine.context import current_context
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.spec import spec_from_node_class


class NodeOutput:
    """What a V3 node's ``execute`` returns: the outputs (``args``/``result``) and optional ``ui``.
    Used when comfy_api's own io.NodeOutput is not available."""

    def __init__(self, *args: Any, ui: Any = None, expand: Any = None, block_execution: Any = None) -> None:
        self.args, self.ui, self.expand, self.block_execution = args, ui, expand, block_execution

    @property
    def result(self) -> tuple | None:
        return self.args if self.args else None

    def __getitem__(self, index: int) -> Any:
        return self.args[index]

    def __len__(self) -> int:
        return len(self.args)

    def __iter__(self):
        return iter(self.args)


def node_output(*values: Any, ui: Any = None) -> Any:
    """comfy_api's io.NodeOutput(*values) when that module provides it, else ``NodeOutput``."""
    try:
        from comfy_api.latest import io

        return io.NodeOutput(*values, ui=ui)
    except (ImportError, AttributeError, TypeError):
        return NodeOutput(*values, ui=ui)


class _Detached:
    """The context of a built-in called outside any running node: progress is dropped; folders and
    models are not available."""
    node_id = prompt_id = None

    def progress(self, *args: Any, **kwargs: Any) -> None:
        return None

    def check_interrupt(self) -> None:
        return None

    def send_preview(self, *args: Any, **kwargs: Any) -> None:
        return None

    def send_text(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"this ComfyUI node class needs NodeFlow's {name!r} and can only run while a node "
                           "runs (call it from a node's function)")


def node_context() -> Any:
    """The running node's context, or a detached one."""
    ctx = current_context()
    return ctx if ctx is not None else _Detached()


def folder_files(kind: str) -> list[str]:
    """The files of a model/input folder kind: from the running node's folders, else through the
    folder_paths module (NodeFlow's own when installed); [] when neither knows the kind."""
    env = getattr(current_context(), "env", None)
    if env is not None:
        return list(env.list_files(kind))
    try:
        import folder_paths

        return list(folder_paths.get_filename_list(kind))
    except (ImportError, AttributeError, KeyError):
        return []


def run_builtin(builtin: type[Node], inputs: dict[str, Any]) -> tuple:
    """Run a NodeFlow built-in node with ``inputs``; its outputs as a tuple."""
    node = builtin()
    node.ctx = node_context()
    out = node.run(**inputs)
    if isinstance(out, NodeResult):
        return tuple(out.outputs)
    return out if isinstance(out, tuple) else (out,)


def bind_inputs(names: list[str], args: tuple, kwargs: dict, owner: str) -> dict[str, Any]:
    """Positional arguments matched to input ``names`` in order, plus the keyword arguments."""
    if len(args) > len(names):
        raise TypeError(f"{owner}: takes {len(names)} inputs ({', '.join(names)}), got {len(args)} positional")
    bound = dict(zip(names, args))
    clash = set(bound) & set(kwargs)
    if clash:
        raise TypeError(f"{owner}: input {sorted(clash)[0]!r} given twice")
    return {**bound, **kwargs}


def comfy_node(builtin: type[Node], function: str, module: str, name: str | None = None) -> type:
    """A ComfyUI V1-style class running ``builtin`` (see the module docstring), defined in ``module``."""
    spec = spec_from_node_class(builtin)
    names = [n for n, d in spec.inputs.items() if d.section != "hidden"]
    class_name = name or spec.name

    def input_types(cls: type) -> dict:
        env = getattr(current_context(), "env", None)
        sections = spec.object_info(env)["input"]
        for decl in spec.inputs.values():
            kind = getattr(decl.desc, "files", None)
            if env is None and kind is not None:  # folder combos: listed through folder_paths
                sections[decl.section][decl.name][0] = folder_files(kind)
        return sections

    def call(self: Any, *args: Any, **kwargs: Any) -> tuple:
        return run_builtin(builtin, bind_inputs(names, args, kwargs, f"{class_name}.{function}"))

    def execute(cls: type, *args: Any, **kwargs: Any) -> Any:
        return node_output(*getattr(cls(), function)(*args, **kwargs))

    call.__name__ = function
    body: dict[str, Any] = {
        "__doc__": inspect.getdoc(builtin), "__module__": module,
        "INPUT_TYPES": classmethod(input_types), "RETURN_TYPES": tuple(o.type_name for o in spec.outputs),
        "RETURN_NAMES": tuple(o.name or o.type_name for o in spec.outputs), "FUNCTION": function,
        "CATEGORY": spec.category, "DESCRIPTION": spec.description, "OUTPUT_NODE": spec.output_node,
        function: call, "execute": classmethod(execute), "NODEFLOW_BUILTIN": builtin,
    }
    return type(class_name, (), body)


def v3_execute(function: str) -> Callable:
    """A V3 ``execute`` classmethod for a hand-written V1-style class: runs ``function`` on an
    instance and wraps the tuple in a NodeOutput."""
    def execute(cls: type, *args: Any, **kwargs: Any) -> Any:
        return node_output(*getattr(cls(), function)(*args, **kwargs))
    return classmethod(execute)

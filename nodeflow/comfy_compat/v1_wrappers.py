"""NodeFlow nodes as ComfyUI V1 classes, for ``nodes.NODE_CLASS_MAPPINGS`` and ``nodes.KSampler``...

A wrapper class has what V1 code reads (``INPUT_TYPES``, ``RETURN_TYPES``, ``FUNCTION``, ...) and
the ComfyUI-named method (``core_methods``). Calling it runs a fresh NodeFlow node with the
running node's context (progress, interrupt, folders, models) and returns what ComfyUI's would:
a tuple, or ``{"ui": ..., "result": ...}`` for nodes that show something. Packs may subclass a
wrapper and register the subclass as their own node. ``core_class`` makes the same class for a
comfy_extras module, with ComfyUI's V3 ``execute`` classmethod as well (``v3_execute``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from nodeflow.schema.node import Node
from nodeflow.schema.spec import NodeSpec, spec_from_node_class

from . import binding
from .core_methods import ANY, COMFY_METHODS, ComfyMethod


def comfy_method(spec: NodeSpec) -> ComfyMethod:
    return COMFY_METHODS.get(spec.name) or ComfyMethod("execute", tuple(spec.inputs))


def _arguments(spec: NodeSpec, method: ComfyMethod, args: tuple, kwargs: dict) -> dict:
    """ComfyUI-style positional/keyword arguments -> the NodeFlow node's keyword inputs."""
    params = method.params or tuple(spec.inputs)
    where = f"{spec.name}.{method.function}()"
    if len(args) > len(params):
        raise TypeError(
            f"{where} takes {len(params)} positional arguments ({', '.join(params)}) but {len(args)} were given"
        )
    given = dict(zip(params, args, strict=False))
    for name, value in kwargs.items():
        if name in given:
            raise TypeError(f"{where} got multiple values for argument {name!r}")
        given[name] = value
    call: dict[str, Any] = {}
    for name, value in given.items():
        if name in spec.inputs:
            call[name] = value
            continue
        accepted = method.ignored.get(name, inspect.Parameter.empty)
        if accepted is ANY or (accepted is not inspect.Parameter.empty and value == accepted):
            continue
        if accepted is not inspect.Parameter.empty:
            raise TypeError(f"{where}: NodeFlow's {spec.name} supports only {name}={accepted!r}, got {value!r}")
        raise TypeError(f"{where} got an unexpected argument {name!r}; it takes {', '.join(spec.inputs)}")
    for decl in spec.inputs.values():  # what the caller left out: ComfyUI's defaults are the widgets'
        if decl.name in call:
            continue
        if decl.section == "hidden":
            call[decl.name] = None
        elif decl.desc is not None and decl.desc.is_widget and getattr(decl.desc, "default", None) is not None:
            call[decl.name] = decl.desc.default
    return call


def call_node(spec: NodeSpec, method: ComfyMethod, args: tuple, kwargs: dict) -> Any:
    from nodeflow.engine.results import normalise_result

    call = _arguments(spec, method, args, kwargs)
    node = spec.make()
    with contextlib.suppress(AttributeError):  # a class with __slots__ gets no context, as in the engine
        node.ctx = binding.node_context()
    produced = normalise_result(spec, spec.call(node, call))
    return produced.outputs if produced.ui is None else {"ui": produced.ui, "result": produced.outputs}


def run_builtin(node_class: type[Node], inputs: dict[str, Any]) -> tuple:
    """Run a NodeFlow built-in with keyword ``inputs`` (the running node's context); its outputs."""
    spec = spec_from_node_class(node_class)
    out = call_node(spec, comfy_method(spec), (), inputs)
    return out["result"] if isinstance(out, dict) else out


def _input_types(spec: NodeSpec) -> dict:
    sections = spec.object_info(binding.current_folders())["input"]
    return {
        section: {name: (tuple(entry) if isinstance(entry, list) else entry) for name, entry in inputs.items()}
        for section, inputs in sections.items()
    }


def v1_class(spec: NodeSpec, module: str = "nodes", with_execute: bool = False) -> type:
    """A ComfyUI V1 class that runs the NodeFlow node ``spec``, defined in ``module``; with
    ``with_execute`` also a V3 ``execute`` classmethod (unless the V1 method is itself ``execute``)."""
    method = comfy_method(spec)

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return call_node(spec, method, args, kwargs)

    run.__name__ = run.__qualname__ = method.function
    run.__doc__ = f"ComfyUI's {spec.name}.{method.function}({', '.join(method.params or spec.inputs)})"
    attrs: dict[str, Any] = {
        "__module__": module,
        "__doc__": spec.description or None,
        "INPUT_TYPES": classmethod(lambda cls: _input_types(spec)),
        "RETURN_TYPES": tuple(o.type_name for o in spec.outputs),
        "RETURN_NAMES": tuple(o.name or o.type_name for o in spec.outputs),
        "OUTPUT_IS_LIST": tuple(o.is_list for o in spec.outputs),
        "OUTPUT_TOOLTIPS": tuple(o.tooltip for o in spec.outputs),
        "FUNCTION": method.function,
        "CATEGORY": spec.category,
        "DESCRIPTION": spec.description,
        "OUTPUT_NODE": spec.output_node,
        "INPUT_IS_LIST": spec.input_is_list,
        "DEPRECATED": spec.deprecated,
        "EXPERIMENTAL": spec.experimental,
        "nodeflow_spec": spec,
        method.function: run,
        **method.attrs,
    }
    if not spec.idempotent:
        attrs["NOT_IDEMPOTENT"] = True
    if with_execute and method.function != "execute":
        attrs["execute"] = v3_execute(method.function)
    return type(spec.name, (), attrs)


def core_class(node_class: type[Node], module: str) -> type:
    """A NodeFlow built-in as the ComfyUI core class a comfy_extras ``module`` defines: V1 method
    (``BasicScheduler().get_sigmas(...)``) and V3 ``execute``."""
    return v1_class(spec_from_node_class(node_class), module, with_execute=True)


def v3_execute(function: str) -> Callable:
    """A V3 ``execute`` classmethod for a V1-style class: runs ``function`` on an instance and
    returns comfy_api's io.NodeOutput."""

    def execute(cls: type, *args: Any, **kwargs: Any) -> Any:
        from comfy_api.latest import io

        out = getattr(cls(), function)(*args, **kwargs)
        if isinstance(out, dict):
            return io.NodeOutput(*(out.get("result") or ()), ui=out.get("ui"))
        return io.NodeOutput(*out)

    return classmethod(execute)


def is_v1_class(value: Any) -> bool:
    return (
        inspect.isclass(value)
        and isinstance(getattr(value, "FUNCTION", None), str)
        and callable(getattr(value, "INPUT_TYPES", None))
    )

"""ComfyUI V1 node classes (INPUT_TYPES / RETURN_TYPES / FUNCTION ...) -> NodeSpec, unchanged."""

from __future__ import annotations

import inspect
from typing import Any

from nodeflow.engine.async_call import await_now
from nodeflow.schema.spec import InputDecl, NodeSpec, descriptor_from_raw
from nodeflow.schema.types import Combo, Output


def _accepts(func: Any) -> tuple[set[str], bool]:
    """(named parameters, takes **kwargs) of a callable."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind == p.VAR_KEYWORD for p in params)


def _pick(func: Any, values: dict) -> dict:
    names, takes_all = _accepts(func)
    return dict(values) if takes_all else {k: v for k, v in values.items() if k in names}


def _live_choices(cls: type, section: str, name: str):
    """Combo options re-read from INPUT_TYPES on every /object_info (file lists change)."""

    def choices(env: Any) -> list:
        spec = (cls.INPUT_TYPES().get(section) or {}).get(name) or [[]]
        kind = spec[0]
        if kind == "COMBO":
            return list((spec[1] if len(spec) > 1 else {}).get("options", []))
        return list(kind) if isinstance(kind, (list, tuple)) else []

    return choices


def spec_from_v1(cls: type, name: str, display_name: str | None, source: str) -> NodeSpec:
    if not callable(getattr(cls, "INPUT_TYPES", None)):
        raise TypeError(f"{name}: INPUT_TYPES is missing or not a classmethod")
    declared = cls.INPUT_TYPES()
    if not isinstance(declared, dict):
        raise TypeError(f"{name}: INPUT_TYPES must return a dict of required/optional/hidden")
    inputs: dict[str, InputDecl] = {}
    for section in ("required", "optional", "hidden"):
        for input_name, raw in (declared.get(section) or {}).items():
            if section == "hidden":
                kind = raw if isinstance(raw, str) else (raw[0] if isinstance(raw, (list, tuple)) and raw else str(raw))
                inputs[input_name] = InputDecl(input_name, "hidden", None, kind)
                continue
            desc = descriptor_from_raw(list(raw) if isinstance(raw, tuple) else raw, section == "optional")
            if isinstance(desc, Combo):
                desc.choices = _live_choices(cls, section, input_name)
            inputs[input_name] = InputDecl(input_name, section, desc)
    return_types = tuple(getattr(cls, "RETURN_TYPES", ()) or ())
    names = tuple(getattr(cls, "RETURN_NAMES", ()) or return_types)
    is_list = tuple(getattr(cls, "OUTPUT_IS_LIST", ()) or (False,) * len(return_types))
    tooltips = tuple(getattr(cls, "OUTPUT_TOOLTIPS", ()) or (None,) * len(return_types))
    # a str subclass (an "any" type) is kept as it is: its equality is what makes it match every input
    outputs = [
        Output(
            t if isinstance(t, str) else "COMBO" if isinstance(t, (list, tuple)) else str(t), str(n), bool(listed), tip
        )
        for t, n, listed, tip in zip(
            return_types,
            names,
            is_list + (False,) * len(return_types),
            tooltips + (None,) * len(return_types),
            strict=False,
        )
    ]
    function = getattr(cls, "FUNCTION", None)
    if not isinstance(function, str) or not callable(getattr(cls, function, None)):
        raise TypeError(f"{name}: FUNCTION must name a method of the class (got {function!r})")
    is_changed = getattr(cls, "IS_CHANGED", None)
    validate = getattr(cls, "VALIDATE_INPUTS", None)
    # ComfyUI: inputs named in VALIDATE_INPUTS' signature skip the built-in value checks
    replaces = (
        frozenset(n for n in _accepts(validate)[0] if n in inputs and inputs[n].section != "hidden")
        if callable(validate)
        else frozenset()
    )
    has_lazy = any(d.desc is not None and d.desc.lazy for d in inputs.values())

    def fingerprint(env: Any, literals: dict) -> Any:
        return await_now(is_changed(**_pick(is_changed, literals)))  # ComfyUI allows ``async def IS_CHANGED``

    def check(env: Any, literals: dict) -> Any:
        args = _pick(validate, literals)
        if "input_types" in _accepts(validate)[0]:
            args["input_types"] = {}
        return await_now(validate(**args))

    def check_lazy(obj: Any, kwargs: dict) -> list:
        return obj.check_lazy_status(**_pick(obj.check_lazy_status, kwargs)) or []

    return NodeSpec(
        name=name,
        display_name=display_name or name,
        category=str(getattr(cls, "CATEGORY", "custom")),
        description=str(getattr(cls, "DESCRIPTION", "") or ""),
        version=str(getattr(cls, "VERSION", "1.0")),
        inputs=inputs,
        outputs=outputs,
        output_node=bool(getattr(cls, "OUTPUT_NODE", False)),
        input_is_list=bool(getattr(cls, "INPUT_IS_LIST", False)),
        deterministic=True,
        idempotent=not getattr(cls, "NOT_IDEMPOTENT", False),
        make=cls,
        call=lambda obj, kwargs: getattr(obj, function)(**kwargs),
        fingerprint=fingerprint if callable(is_changed) else None,
        validate=check if callable(validate) else None,
        validate_replaces=replaces,
        check_lazy=check_lazy if has_lazy and callable(getattr(cls, "check_lazy_status", None)) else None,
        source=source,
        deprecated=bool(getattr(cls, "DEPRECATED", False)),
        experimental=bool(getattr(cls, "EXPERIMENTAL", False)),
    )

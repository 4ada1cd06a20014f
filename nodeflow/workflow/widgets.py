"""Which inputs of a node are widgets, read from its /object_info entry, and how ComfyUI's
positional ``widgets_values`` map onto them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .errors import warning

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}


def input_specs(info: dict) -> list[tuple[str, list, str]]:
    """[(name, [type, options], section)] in input_order, required then optional."""
    order = info.get("input_order") or {}
    result = []
    for section in ("required", "optional"):
        specs = (info.get("input") or {}).get(section) or {}
        for name in order.get(section, list(specs)):
            if name in specs:
                spec = specs[name]
                result.append((name, spec if isinstance(spec, list) else [spec], section))
    return result


def is_widget(spec: list) -> bool:
    kind = spec[0] if spec else None
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if options.get("forceInput"):
        return False
    return isinstance(kind, list) or kind in WIDGET_TYPES


def has_control(spec: list) -> bool:
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    return bool(options.get("control_after_generate"))


def widget_names(info: dict) -> list[str]:
    return [name for name, spec, _ in input_specs(info) if is_widget(spec)]


def default_value(spec: list) -> Any:
    kind = spec[0]
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if "default" in options:
        return options["default"]
    if isinstance(kind, list):
        return kind[0] if kind else None
    if kind == "COMBO":
        return (options.get("options") or [None])[0]
    return {"INT": 0, "FLOAT": 0.0, "STRING": "", "BOOLEAN": False}.get(kind)


def values_by_name(info: dict, values: Any) -> tuple[dict, dict]:
    """Positional widgets_values -> ({input name: value}, {input name: control_after_generate mode}).
    A null value is no value: the input is left out (``fill_defaults`` gives it its default)."""
    if isinstance(values, dict):  # some nodes save widget values by name already
        return {k: v for k, v in values.items() if k in widget_names(info) and v is not None}, {}
    values = list(values) if isinstance(values, list) else []
    specs = [(name, spec) for name, spec, _ in input_specs(info) if is_widget(spec)]
    all_controls = len(values) >= len(specs) + sum(1 for _, spec in specs if has_control(spec))
    named, controls = {}, {}
    index = 0
    for name, spec in specs:
        if index >= len(values):
            break
        if values[index] is not None:
            named[name] = values[index]
        index += 1
        if has_control(spec) and index < len(values):
            control = values[index]
            if control in CONTROL_VALUES or isinstance(control, bool):
                controls[name] = control if isinstance(control, str) else ("randomize" if control else "fixed")
                index += 1
            elif control is None and all_controls:  # a null control value still takes its place
                index += 1
    return named, controls


def fill_defaults(info: dict, widgets: dict, sections: Collection[str] = ("required",)) -> tuple[dict, list[str]]:
    """Values for the widget inputs of ``sections`` that ``widgets`` has no value for (absent or null): the
    input's ``default``, or for a combo without one its first choice. Returns (the values filled
    {name: value}, the names left without a value because there is nothing to choose from, e.g. a
    model combo over an empty folder)."""
    filled, empty = {}, []
    for name, spec, section in input_specs(info):
        if section not in sections or not is_widget(spec) or widgets.get(name) is not None:
            continue
        value = default_value(spec)
        if value is None:
            empty.append(name)
        else:
            filled[name] = value
    return filled, empty


def defaults_warning(node_id: Any, kind: str, filled: dict, empty: Collection[str]) -> dict:
    """One warning naming the node and every input that got a default (or could not get one)."""
    parts = []
    if filled:
        values = ", ".join(f"{name}={value!r}"[:80] for name, value in filled.items())
        parts.append(f"used the defaults {values}")
    if empty:
        parts.append(
            f"left {', '.join(empty)} empty: there is nothing to choose from here (add the missing "
            "file to its folder, then pick it on the node)"
        )
    return warning(
        node_id,
        f"{kind} (node {node_id}) has no saved value for {', '.join([*filled, *empty])} "
        f"(widgets_values missing, null or too short); {'; '.join(parts)}",
    )


def values_by_position(info: dict, widgets: dict, controls: dict) -> list:
    """The inverse: {name: value} -> ComfyUI's positional list, control values after seeds."""
    values = []
    for name, spec, _ in input_specs(info):
        if not is_widget(spec):
            continue
        values.append(widgets.get(name, default_value(spec)))
        if has_control(spec):
            values.append(controls.get(name, "fixed"))
    return values

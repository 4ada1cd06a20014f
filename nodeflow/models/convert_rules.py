"""Renaming tables for transformer checkpoints (SD3's MMDiT, Flux): a ``Rule`` maps one released
module onto one or more network modules (a fused q/k/v or q/k/v/mlp weight is split along its
output rows; a modulation's shift/scale halves may be swapped). The same table renames a file
(``apply_rules``), renames a network back to the released names for saving (``invert_rules``) and
tells a LoRA on a fused released layer which rows of which network weights it changes
(``lora_targets``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Rule:
    source: str  # released module name (".weight"/".bias" or ".scale" appended)
    targets: tuple[str, ...]  # network module names, in row order
    sizes: tuple[int, ...] | None = None  # rows of each target when the source is fused
    swap: bool = False  # the two halves swapped (shift/scale -> scale/shift)
    scale_to_weight: bool = False  # an RMS norm's ".scale" becomes ".weight"
    raw: bool = False  # source and target are whole tensor names (no .weight/.bias)


def _swap(t: torch.Tensor) -> torch.Tensor:
    first, second = t.chunk(2, dim=0)
    return torch.cat([second, first], dim=0)


def apply_rules(state: Mapping[str, torch.Tensor], rules: list[Rule], what: str) -> dict[str, torch.Tensor]:
    """Released tensors -> network tensors by ``rules``; every tensor must be used (clear error otherwise)."""
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for rule in rules:
        for src_suffix, dst_suffix in _suffixes(rule):
            key = f"{rule.source}.{src_suffix}".rstrip(".")
            if key not in state:
                if src_suffix == "bias":
                    continue
                raise ValueError(f"{what}: tensor {key!r} is missing; the file is incomplete or another variant")
            value = state[key]
            used.add(key)
            if rule.swap:
                value = _swap(value)
            parts = torch.split(value, list(rule.sizes), dim=0) if rule.sizes else (value,)
            for target, part in zip(rule.targets, parts, strict=False):
                out[f"{target}.{dst_suffix}".rstrip(".")] = part
    unknown = sorted(set(state) - used)
    if unknown:
        raise ValueError(
            f"{what}: {len(unknown)} tensors the detected architecture has no place for (first: {unknown[:3]})"
        )
    return out


def _suffixes(rule: Rule) -> tuple[tuple[str, str], ...]:
    """(released suffix, network suffix) pairs a rule renames."""
    if rule.raw:
        return (("", ""),)
    if rule.scale_to_weight:
        return (("scale", "weight"),)
    return (("weight", "weight"), ("bias", "bias"))


def invert_rules(state: Mapping[str, torch.Tensor], rules: list[Rule], what: str) -> dict[str, torch.Tensor]:
    """Network tensors -> released tensors by the same ``rules`` (fused parts concatenated in row order,
    swapped halves swapped back); every network tensor must have a place (clear error otherwise)."""
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for rule in rules:
        for src_suffix, dst_suffix in _suffixes(rule):
            keys = [f"{target}.{dst_suffix}".rstrip(".") for target in rule.targets]
            present = [k in state for k in keys]
            if not any(present) and src_suffix == "bias":
                continue
            if not all(present):
                missing = keys[present.index(False)]
                raise ValueError(f"{what}: network tensor {missing!r} is missing; the model is not this architecture")
            used.update(keys)
            value = torch.cat([state[k] for k in keys], dim=0) if len(keys) > 1 else state[keys[0]]
            if rule.swap:
                value = _swap(value)  # swapping the halves is its own inverse
            out[f"{rule.source}.{src_suffix}".rstrip(".")] = value
    unknown = sorted(set(state) - used)
    if unknown:
        raise ValueError(f"{what}: {len(unknown)} network tensors with no released name (first: {unknown[:3]})")
    return out


def lora_targets(rules: list[Rule], source: str) -> list[tuple[str, int, int]] | None:
    """The network weights a released module's weight becomes: [(network module, first row, rows)]
    (rows -1 = all), or None when no rule names it."""
    for rule in rules:
        if rule.source == source and not rule.raw and not rule.scale_to_weight:
            if not rule.sizes:
                return [(rule.targets[0], 0, -1)]
            out, start = [], 0
            for target, size in zip(rule.targets, rule.sizes, strict=False):
                out.append((target, start, size))
                start += size
            return out
    return None


def network_to_released(rules: list[Rule]) -> dict[str, tuple[str, int, int]]:
    """{network module: (released module, first row, rows; -1 = all)} for LoRA key lookup."""
    out = {}
    for rule in rules:
        if rule.raw or rule.scale_to_weight:
            continue
        for target, start, size in lora_targets(rules, rule.source) or []:
            out[target] = (rule.source, start, size)
    return out

"""Conditioning helpers of comfy.hooks (re-exported there): hooks, masks, strengths and timestep
ranges set on every entry of CONDITIONING lists, and lists of conditionings combined pairwise.
Entries are copied; the conditionings given are not changed."""

from __future__ import annotations

from typing import Any

import torch


def conditioning_set_values(conditioning: list, values: dict[str, Any], append: bool = False) -> list:
    """Each entry with ``values`` set in its options (``append``: lists are extended)."""
    out = []
    for entry in conditioning:
        options = dict(entry[1])
        for key, value in values.items():
            options[key] = options.get(key, []) + value if append and key in options else value
        out.append([entry[0], options, *entry[2:]])
    return out


def set_hooks_for_conditioning(cond: list, hooks: Any, append_hooks: bool = True, cache: dict | None = None) -> list:
    """Each entry with ``hooks`` attached (combined with hooks already there when ``append_hooks``);
    ``cache`` maps (old group, new group) to their combination across calls."""
    if hooks is None:
        return cond
    cache = cache if cache is not None else {}
    out = []
    for entry in cond:
        options = dict(entry[1])
        previous = options.get("hooks")
        if append_hooks and previous is not None:
            key = (previous, hooks)
            if key not in cache:
                cache[key] = previous.clone_and_combine(hooks)
            options["hooks"] = cache[key]
        else:
            options["hooks"] = hooks
        out.append([entry[0], options, *entry[2:]])
    return out


def set_timesteps_for_conditioning(cond: list, timestep_range: tuple[float, float] | None) -> list:
    """Each entry active only from ``timestep_range[0]`` to ``[1]`` of sampling (percents)."""
    if timestep_range is None:
        return cond
    start, end = timestep_range
    return conditioning_set_values(cond, {"start_percent": float(start), "end_percent": float(end)})


def set_mask_for_conditioning(cond: list, mask: torch.Tensor | None, set_cond_area: str, strength: float) -> list:
    """Each entry limited to ``mask`` with ``strength``; ``set_cond_area`` other than "default"
    ("mask bounds") makes the area the mask's bounding box."""
    if mask is None:
        return cond
    if mask.ndim == 2:
        mask = mask[None]
    return conditioning_set_values(
        cond, {"mask": mask, "set_area_to_bounds": set_cond_area != "default", "mask_strength": float(strength)}
    )


def combine_conditioning(conds: list[list]) -> list:
    """All entries of all the conditionings, in order (what ConditioningCombine does)."""
    return [entry for cond in conds for entry in cond]


def combine_with_new_conds(conds: list[list], new_conds: list[list]) -> list[list]:
    """Pairwise combination: conds[i] + new_conds[i]."""
    if len(conds) != len(new_conds):
        raise ValueError(f"combine: {len(conds)} conditionings but {len(new_conds)} new ones")
    return [combine_conditioning([c, n]) for c, n in zip(conds, new_conds, strict=False)]


def set_conds_props(
    conds: list[list],
    strength: float,
    set_cond_area: str,
    mask: torch.Tensor | None = None,
    hooks: Any = None,
    timesteps_range: tuple[float, float] | None = None,
    append_hooks: bool = True,
) -> list[list]:
    """Every conditioning in ``conds`` (e.g. [positive, negative]) with hooks, mask (with
    ``strength`` and area mode) and timestep range set."""
    cache: dict = {}
    out = []
    for cond in conds:
        cond = set_hooks_for_conditioning(cond, hooks, append_hooks=append_hooks, cache=cache)
        cond = set_mask_for_conditioning(cond, mask, set_cond_area, strength)
        out.append(set_timesteps_for_conditioning(cond, timesteps_range))
    return out


def set_conds_props_and_combine(
    conds: list[list],
    new_conds: list[list],
    strength: float = 1.0,
    set_cond_area: str = "default",
    mask: torch.Tensor | None = None,
    hooks: Any = None,
    timesteps_range: tuple[float, float] | None = None,
    append_hooks: bool = True,
) -> list[list]:
    """``new_conds`` with those properties set, each appended to the matching conditioning of ``conds``."""
    updated = set_conds_props(new_conds, strength, set_cond_area, mask, hooks, timesteps_range, append_hooks)
    return combine_with_new_conds(conds, updated)


def set_default_conds_and_combine(
    conds: list[list],
    new_conds: list[list],
    hooks: Any = None,
    timesteps_range: tuple[float, float] | None = None,
    append_hooks: bool = True,
) -> list[list]:
    """``new_conds`` marked as defaults (used where no other conditioning applies), with hooks and
    timestep range, each appended to the matching conditioning of ``conds``."""
    cache: dict = {}
    updated = []
    for cond in new_conds:
        cond = set_hooks_for_conditioning(cond, hooks, append_hooks=append_hooks, cache=cache)
        cond = set_timesteps_for_conditioning(cond, timesteps_range)
        updated.append(conditioning_set_values(cond, {"default": True}))
    return combine_with_new_conds(conds, updated)

"""LoRA files -> weight patches. Formats: kohya / A1111 (``lora_unet_*``, ``lora_te*_*``: LoRA,
LoCon and LoHa, with ``alpha``), with diffusers-style or original-style (SDXL) module names, and
diffusers / PEFT (``unet.*.lora_A/lora_B``, ``*.lora.down/up``)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import torch

from .checkpoint_file import load_state_dict
from .family import TextTower
from .fast_modes import require_float_weights
from .patching import Patch

SUFFIXES = (
    ".lora_down.weight",
    ".lora_up.weight",
    ".alpha",
    ".lora_A.weight",
    ".lora_B.weight",
    ".lora.down.weight",
    ".lora.up.weight",
    ".hada_w1_a",
    ".hada_w1_b",
    ".hada_w2_a",
    ".hada_w2_b",
    "_lora.down.weight",
    "_lora.up.weight",
)


def group_lora(sd: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """{module key: {part: tensor}} where part is down/up/alpha/w1a/w1b/w2a/w2b."""
    groups: dict[str, dict[str, torch.Tensor]] = defaultdict(dict)
    names = {
        ".lora_down.weight": "down",
        ".lora_up.weight": "up",
        ".alpha": "alpha",
        ".lora_A.weight": "down",
        ".lora_B.weight": "up",
        ".lora.down.weight": "down",
        ".lora.up.weight": "up",
        ".hada_w1_a": "w1a",
        ".hada_w1_b": "w1b",
        ".hada_w2_a": "w2a",
        ".hada_w2_b": "w2b",
        "_lora.down.weight": "down",
        "_lora.up.weight": "up",
    }
    for key, value in sd.items():
        for suffix in SUFFIXES:
            if key.endswith(suffix):
                module = key[: -len(suffix)].replace(".processor.", ".")
                groups[module][names[suffix]] = value
                break
    return groups


def _delta(parts: dict[str, torch.Tensor], source: str):
    alpha = parts.get("alpha")
    if "w1a" in parts:  # LoHa: Hadamard product of two low-rank products
        rank = parts["w1b"].shape[0]
        scale = float(alpha) / rank if alpha is not None else 1.0
        w1a, w1b, w2a, w2b = (parts[k].float() for k in ("w1a", "w1b", "w2a", "w2b"))
        return lambda weight: ((w1a @ w1b) * (w2a @ w2b) * scale).reshape(weight.shape)
    if "down" not in parts or "up" not in parts:
        raise ValueError(f"LoRA {source}: a module has only one of its up/down matrices")
    down, up = parts["down"].float(), parts["up"].float()
    rank = down.shape[0]
    scale = float(alpha) / rank if alpha is not None else 1.0

    def delta(weight: torch.Tensor) -> torch.Tensor:
        product = up.flatten(1) @ down.flatten(1)
        return (product * scale).reshape(weight.shape)

    return delta


def _underscored(name: str) -> str:
    return name.replace(".", "_")


def unet_candidates(param_module: str, original_name: str | None) -> list[str]:
    """LoRA module keys that may target the diffusers UNet module ``param_module``."""
    keys = [f"lora_unet_{_underscored(param_module)}", f"unet.{param_module}", f"base_model.model.{param_module}"]
    if original_name is not None:
        keys += [f"lora_unet_{_underscored(original_name)}", f"diffusion_model.{original_name}"]
    return keys


def text_candidates(param_module: str, tower: TextTower) -> list[str]:
    """LoRA module keys for a text-encoder module (names without a ``text_model.`` level)."""
    module = param_module.removeprefix("text_model.")
    if module.startswith("text_projection"):
        return []
    kohya, peft = tower.lora_prefixes
    return [f"{kohya}text_model_{_underscored(module)}", f"{peft}text_model.{module}", f"{peft}{module}"]


RESNET_PARTS = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "time_emb_proj": "emb_layers.1",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "conv_shortcut": "skip_connection",
}


def _original_names(model) -> dict[str, tuple[str, str]]:
    """diffusers UNet module prefix -> (original (released) module prefix, kind)."""
    from .convert_unet import unet_module_table

    return {
        diffusers: (original, kind) for original, diffusers, kind in unet_module_table(dict(model.unet.module.config))
    }


def _translate(module: str, table: dict[str, tuple[str, str]]) -> str | None:
    """The released-layout name of a diffusers UNet module (SDXL kohya LoRAs use these)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        head = ".".join(parts[:n])
        if head in table:
            original, kind = table[head]
            rest = ".".join(parts[n:])
            if kind == "resnet":
                rest = RESNET_PARTS.get(rest, rest)
            return original + ("." + rest if rest else "")
    return None


def build_patches(groups: dict, module: torch.nn.Module, candidates, source: str) -> tuple[list[Patch], set[str]]:
    """Patches for every weight of ``module`` some LoRA group targets; returns the used groups."""
    patches, used = [], set()
    for name, _ in module.named_parameters():
        if not name.endswith(".weight"):
            continue
        target = name[: -len(".weight")]
        for candidate in candidates(target):
            key, rows = (candidate, None) if isinstance(candidate, str) else (candidate[0], candidate[1:])
            if key in groups:
                delta = _delta(groups[key], source)
                if rows is not None and rows[1] >= 0:  # a LoRA on a fused released layer: its rows for this weight
                    delta = _rows(delta, *rows)
                patches.append(Patch(name, 1.0, delta, source))
                used.add(key)
                break
    return patches, used


def _rows(delta, start: int, size: int):
    """The rows [start, start + size) of a fused layer's delta (q, k, v or mlp of one weight)."""
    return lambda weight: delta(_Shape(weight))[start : start + size].reshape(weight.shape)


class _Shape:
    """Stands in for the fused weight a delta is shaped like: its first dimension inferred."""

    def __init__(self, weight: torch.Tensor) -> None:
        self.shape = (-1, *weight.shape[1:])


def transformer_candidates(target: str, released: tuple[str, int, int] | None) -> list:
    """LoRA module keys that may target a transformer (SD3 / Flux) module: diffusers / PEFT names,
    and the released layout's (kohya ``lora_unet_*``, ``diffusion_model.*``, bare) with the rows of a
    fused layer this module is."""
    keys: list = [f"transformer.{target}", f"base_model.model.{target}", f"lora_transformer_{_underscored(target)}"]
    if released is not None:
        name, start, size = released
        keys.extend((key, start, size) for key in (f"lora_unet_{_underscored(name)}", f"diffusion_model.{name}", name))
    return keys


def load_lora(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    groups = group_lora(load_state_dict(Path(path)))
    if not groups:
        raise ValueError(
            f"{Path(path).name} holds no LoRA weights (no lora_down/lora_up, lora_A/lora_B or hada_* tensors)"
        )
    return groups


def apply_lora(model, clip, groups: dict, strength_model: float, strength_clip: float, source: str):
    """Clones of ``model`` and ``clip`` carrying the LoRA (either may be None)."""
    used: set[str] = set()
    new_model = new_clip = None
    if model is not None:
        if strength_model != 0:
            require_float_weights(model.unet.module)
        new_model = model.clone()
        if strength_model != 0 and model.family.lora_names is not None:  # transformer families
            released = model.family.lora_names(dict(model.unet.module.config))

            def unet_keys(target: str) -> list:
                return transformer_candidates(target, released.get(target))
        elif strength_model != 0:
            table = _original_names(model)

            def unet_keys(target: str) -> list[str]:
                original = _translate(target, table)
                return unet_candidates(target, original)

        if strength_model != 0:
            patches, hit = build_patches(groups, model.unet.module, unet_keys, source)
            new_model.unet.add_patches([Patch(p.key, strength_model, p.delta, source) for p in patches])
            used |= hit
    if clip is not None:
        new_clip = clip.clone()
        if strength_clip != 0:
            for enc in new_clip.encoders:
                patches, hit = build_patches(
                    groups, enc.model.module, lambda t, e=enc: text_candidates(t, clip.family.tower(e.name)), source
                )
                enc.model.add_patches([Patch(p.key, strength_clip, p.delta, source) for p in patches])
                used |= hit
    wanted = {k for k in groups if not (model is None and re.match(r"^(lora_unet|unet\.|diffusion_model)", k))}
    if not used and wanted:
        raise ValueError(
            f"LoRA {source} matched no weights of this model: is it made for another model family? "
            f"(first keys: {sorted(groups)[:2]})"
        )
    return new_model, new_clip, sorted(set(groups) - used)

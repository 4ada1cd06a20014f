"""ComfyUI's names for the weights of NodeFlow's modules.

A ComfyUI MODEL's weights are named ``diffusion_model.<released (LDM) name>``; NodeFlow's UNet is a
diffusers module with diffusers names, so the table is generated from the UNet's config with the
same converter the loaders use. A CLIP's weights are ``<tower>.transformer.<Hugging Face name>``
(``clip_l.transformer.text_model.encoder.layers.0...``), which are NodeFlow's names with a prefix."""
from __future__ import annotations

import weakref

import torch

UNET_PREFIX = "diffusion_model."
_UNET_TABLES: "weakref.WeakKeyDictionary[torch.nn.Module, dict[str, str]]" = weakref.WeakKeyDictionary()


def unet_keys(module: torch.nn.Module) -> dict[str, str]:
    """ComfyUI name -> state_dict name of a UNet module (cached per module: tables are pure data)."""
    table = _UNET_TABLES.get(module)
    if table is None:
        table = _build_unet_keys(module)
        _UNET_TABLES[module] = table
    return table


def _build_unet_keys(module: torch.nn.Module) -> dict[str, str]:
    names = list(module.state_dict().keys())
    config = getattr(module, "config", None)
    if config is None:  # not a diffusers UNet: its own names under the prefix
        return {UNET_PREFIX + n: n for n in names}
    from ..convert_unet import unet_from_diffusers

    # each name is carried through the converter as a 0-d index tensor (left unreshaped)
    marked = unet_from_diffusers({n: torch.tensor(i) for i, n in enumerate(names)}, dict(config))
    return {UNET_PREFIX + k: names[int(v)] for k, v in marked.items()}


def tower_key_prefix(tower_name: str) -> str:
    return f"{tower_name}.transformer."


def clip_keys(encoders) -> dict[str, tuple[object, str]]:
    """ComfyUI name -> (text encoder, state_dict name) for every weight of every tower."""
    out = {}
    for enc in encoders:
        prefix = tower_key_prefix(enc.name)
        for name in enc.model.module.state_dict():
            out[prefix + name] = (enc, name)
    return out

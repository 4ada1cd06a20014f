"""ComfyUI's names for the weights of NodeFlow's modules.

A ComfyUI MODEL's weights are named ``diffusion_model.<released (LDM) name>``; NodeFlow's UNet is a
diffusers module with diffusers names, so the table is generated from the UNet's config with the
same converter the loaders use. A CLIP's weights are ``<tower>.transformer.text_model.<name>`` (``clip_l.transformer.text_model.encoder.
layers.0...``) and ``<tower>.transformer.text_projection.weight``, whichever prefix the installed
transformers version gives NodeFlow's text modules."""

from __future__ import annotations

import weakref

import torch

UNET_PREFIX = "diffusion_model."
_UNET_TABLES: weakref.WeakKeyDictionary[torch.nn.Module, dict[str, str]] = weakref.WeakKeyDictionary()


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


TOKEN_EMBEDDING = "embeddings.token_embedding.weight"


def clip_keys(encoders) -> dict[str, tuple[object, str]]:
    """ComfyUI name -> (text encoder, state_dict name) for every weight of every tower."""
    out = {}
    for enc in encoders:
        names = list(enc.model.module.state_dict())
        token = next((n for n in names if n.endswith(TOKEN_EMBEDDING)), TOKEN_EMBEDDING)
        text_prefix = token[: -len(TOKEN_EMBEDDING)]  # "text_model." or "" by transformers version
        head = tower_key_prefix(enc.name)
        for name in names:
            if name.startswith(text_prefix) and not name.startswith("text_projection"):
                out[f"{head}text_model.{name[len(text_prefix) :]}"] = (enc, name)
            else:
                out[head + name] = (enc, name)
    return out

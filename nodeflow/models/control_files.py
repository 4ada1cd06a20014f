"""ControlNet and T2I-Adapter files -> the CONTROL_NET object (control_model.ControlNet).

Any layout control_layouts recognises, as .safetensors or a weights-only pickle (.pth); a diffusers
ControlNet folder is its ``diffusion_pytorch_model.safetensors`` with the ``config.json`` beside it
(settings shapes cannot show, such as head counts, are taken from there). A diff ControlNet (a
``difference`` tensor) is loaded against a MODEL: its encoder weights are the model's UNet weights
(unpatched) plus the file's deltas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from . import half_storage
from .checkpoint_file import ModelFileError, load_state_dict
from .control_layouts import (
    FOLDER_ONLY_ARGS,
    ControlFileError,
    ControlLayout,
    adapter_to_diffusers,
    controlnet_to_diffusers,
    recognise_control,
    strip_prefix,
)
from .control_model import ControlNet
from .kernels import prepare_network
from .loader import build_module


def load_control_file(path: Path, manager: Any = None, model: Any = None) -> ControlNet:
    """A ControlNet / T2I-Adapter from a file (``model``: the base of a diff ControlNet)."""
    path = Path(path)
    return control_from_state(
        load_state_dict(path),
        manager,
        model,
        path.name,
        _folder_config(path),
        shuffle=path.stem.endswith(("_shuffle", "_shuffle_fp16")),
    )


def _folder_config(path: Path) -> dict:
    """The config.json of a diffusers ControlNet folder the file sits in, or {}."""
    config = path.parent / "config.json"
    if path.stem.split(".")[0] != "diffusion_pytorch_model" or not config.is_file():
        return {}
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path.parent.name}/config.json cannot be read ({exc})") from None


def control_from_state(
    sd: dict[str, torch.Tensor],
    manager: Any = None,
    model: Any = None,
    source: str = "state dict",
    folder_config: dict | None = None,
    shuffle: bool = False,
) -> ControlNet:
    sd = strip_prefix(sd)
    try:
        layout = recognise_control({k: tuple(v.shape) for k, v in sd.items()})
    except ControlFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    except ValueError as exc:  # the family rules or the UNet reader refused the encoder
        raise ModelFileError(f"{source}: not a ControlNet NodeFlow can read ({exc})") from None
    config = dict(layout.config)
    if layout.kind == "controlnet":
        config.update({k: v for k, v in (folder_config or {}).items() if k in FOLDER_ONLY_ARGS})
        if shuffle:  # ComfyUI's rule: *_shuffle ControlNets average their outputs over the image
            config["global_pool_conditions"] = True
    layout = ControlLayout(layout.kind, layout.layout, layout.family, config, layout.difference)
    dtype = manager.dtype("unet") if manager is not None else torch.float32
    try:
        network = _build(layout, sd, model, dtype, source, half_storage.wanted(manager))
    except ControlFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    return ControlNet(prepare_network(network, manager), layout, manager, source)


def _build(
    layout: ControlLayout, sd: dict, model: Any, dtype: torch.dtype, source: str, keep_16bit: bool = False
) -> torch.nn.Module:
    if layout.kind == "t2i_adapter":
        from diffusers import T2IAdapter

        state = adapter_to_diffusers(sd, layout.config) if layout.layout == "tencentarc" else sd
        return build_module(
            lambda: T2IAdapter(**layout.config), state, dtype, f"T2I-Adapter {source}", keep_16bit=keep_16bit
        )
    from diffusers import ControlNetModel

    config = layout.config
    if layout.layout == "ldm":
        sd = controlnet_to_diffusers(sd, config)
    if layout.difference:
        sd = _add_base_weights(sd, config, model, source)
    return build_module(lambda: ControlNetModel(**config), sd, dtype, f"ControlNet {source}", keep_16bit=keep_16bit)


def _add_base_weights(sd: dict, config: dict, model: Any, source: str) -> dict:
    """A diff ControlNet's deltas plus the base UNet's weights (the encoder half they share)."""
    if model is None:
        raise ControlFileError(
            "this is a diff ControlNet (its weights are differences to a base model): load it "
            "with Load ControlNet Model (diff) and connect the MODEL it was made for"
        )
    unet = model.unet
    params = dict(unet.module.named_parameters())
    # ControlNetModel names are the UNet's own for conv_in, time/add embeddings, down and mid blocks
    out = {}
    for key, delta in sd.items():
        if key in params and tuple(params[key].shape) == tuple(delta.shape):
            out[key] = unet.original(key).float().cpu() + delta.float()
        else:
            out[key] = delta
    if not any(key in params for key in sd):
        raise ControlFileError(
            "none of this diff ControlNet's weights match the model's UNet; connect the model it was made for"
        )
    return out

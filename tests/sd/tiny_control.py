"""Tiny random ControlNets and T2I-Adapters in the released layouts, sized for the tiny SD1 UNet
(tests/sd/tiny.py): original (cldm) layout with and without ``control_model.``, .safetensors and
weights-only .pth, diffusers layout as one file and as a folder, TencentARC T2I-Adapters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from .tiny import UNET_SD1

HINT_WIDTHS = (16, 32, 96, 256)  # the released conditioning embedding
CONTROL_SD1 = {
    "in_channels": 4,
    "down_block_types": UNET_SD1["down_block_types"],
    "block_out_channels": UNET_SD1["block_out_channels"],
    "layers_per_block": 1,
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "conditioning_embedding_out_channels": HINT_WIDTHS,
}
# an SDXL-style ControlNet: the text_time extra embedding (pooled 64 + 6 ids of 256)
CONTROL_SDXL = dict(
    CONTROL_SD1,
    cross_attention_dim=64,
    use_linear_projection=True,
    attention_head_dim=(1, 1),
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=64 + 6 * 256,
)


def _randomised(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Zero-initialised convs (ControlNet's zero convs) get small random weights and the hint
    embedding a variance-keeping one, so the control and its hint do something."""
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "cond_embedding" in name:  # the hint, not the biases, drives the hint embedding (He init)
                fan_in = p[0].numel() if p.dim() > 1 else 1
                p.copy_(torch.randn(p.shape, generator=g) * (2 / fan_in) ** 0.5 if p.dim() > 1 else torch.zeros_like(p))
            elif not p.abs().sum():
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return module.eval()


def tiny_controlnet(seed: int = 0, config: dict = CONTROL_SD1):
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    return _randomised(ControlNetModel(**config), seed)


def tiny_adapter(seed: int = 0, in_channels: int = 1, xl: bool = False):
    from diffusers import T2IAdapter

    torch.manual_seed(seed)
    widths = list(UNET_SD1["block_out_channels"])
    return _randomised(
        T2IAdapter(
            in_channels=in_channels,
            channels=widths,
            num_res_blocks=2,
            downscale_factor=16 if xl else 8,
            adapter_type="full_adapter_xl" if xl else "full_adapter",
        ),
        seed,
    )


def _save(tensors: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(tensors, str(path))
    else:  # a weights-only pickle, as the ControlNet-v1-1 .pth files are
        torch.save(tensors, str(path))
    return path


def write_controlnet_ldm(path: Path, seed: int = 0, prefix: bool = True, difference_to=None) -> Path:
    """Original-layout ControlNet (``control_model.`` names when ``prefix``). With
    ``difference_to`` (a diffusers UNet state dict) the encoder weights are stored as differences
    to it and a ``difference`` tensor marks the file, as diff ControlNets are released."""
    from nodeflow.models.control_layouts import controlnet_from_diffusers

    net = tiny_controlnet(seed)
    state = dict(net.state_dict())
    if difference_to is not None:
        state = {k: v - difference_to[k] if k in difference_to else v for k, v in state.items()}
    tensors = controlnet_from_diffusers(state, dict(net.config))
    if difference_to is not None:
        tensors["difference"] = torch.tensor([1.0])
    head = "control_model." if prefix else ""
    return _save({head + k: v for k, v in tensors.items()}, path)


def write_controlnet_diffusers(path: Path, seed: int = 0, config: dict = CONTROL_SD1, folder: bool = False) -> Path:
    """A diffusers ControlNet: one .safetensors, or with ``folder`` the released folder
    (config.json + diffusion_pytorch_model.safetensors); returns the weights file."""
    net = tiny_controlnet(seed, config)
    if folder:
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.json").write_text(json.dumps({"_class_name": "ControlNetModel", **dict(net.config)}))
        path = path / "diffusion_pytorch_model.safetensors"
    return _save(dict(net.state_dict()), path)


def write_adapter_tencentarc(path: Path, seed: int = 0, in_channels: int = 1) -> Path:
    """A T2I-Adapter in TencentARC's layout (conv_in, body.N.block1/block2/in_conv)."""
    adapter = tiny_adapter(seed, in_channels)
    tensors = {}
    for key, value in adapter.state_dict().items():
        m = re.match(r"adapter\.body\.(\d+)\.resnets\.(\d+)\.(.*)$", key)
        if m:
            tensors[f"body.{int(m.group(1)) * 2 + int(m.group(2))}.{m.group(3)}"] = value
        elif m := re.match(r"adapter\.body\.(\d+)\.in_conv\.(.*)$", key):
            tensors[f"body.{int(m.group(1)) * 2}.in_conv.{m.group(2)}"] = value
        else:
            tensors[key[len("adapter.") :]] = value
    return _save(tensors, path)

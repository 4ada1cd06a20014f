"""The released ControlNet / T2I-Adapter layouts (tests/data/*_keys.json.gz: every tensor name and
shape of control_v11p_sd15_canny, controlnet-canny-sdxl-1.0 and t2iadapter_canny_sd15v2) are
recognised from shapes and map, name for name and shape for shape, onto the diffusers modules
that run them (built full size on the meta device)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from nodeflow.models.checkpoint_file import ModelFileError
from nodeflow.models.control_files import control_from_state
from nodeflow.models.control_layouts import (
    ControlFileError,
    adapter_to_diffusers,
    controlnet_from_diffusers,
    controlnet_to_diffusers,
    recognise_control,
    strip_prefix,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def manifest(name: str) -> dict:
    return json.loads(gzip.decompress((DATA / name).read_bytes()))


def meta(keys: dict) -> dict[str, torch.Tensor]:
    return {k: torch.empty(shape, device="meta") for k, (shape, _) in keys.items()}


def shapes(sd: dict) -> dict:
    return {k: tuple(v.shape) for k, v in sd.items()}


def module_shapes(factory) -> dict:
    with torch.device("meta"):
        return shapes(factory().state_dict())


@pytest.mark.parametrize("prefix", [True, False], ids=["control_model.", "no prefix"])
def test_sd15_controlnet_original_layout(prefix):
    from diffusers import ControlNetModel

    ref = manifest("controlnet_sd15_keys.json.gz")
    sd = meta(ref["keys"])
    assert len(sd) == ref["tensors"] == 340
    if not prefix:
        sd = {k[len("control_model.") :]: v for k, v in sd.items()}
    sd = strip_prefix(sd)
    layout = recognise_control(shapes(sd))
    assert (layout.kind, layout.layout, layout.family.name, layout.difference) == ("controlnet", "ldm", "sd1", False)
    cfg = layout.config
    assert tuple(cfg["block_out_channels"]) == (320, 640, 1280, 1280) and cfg["cross_attention_dim"] == 768
    assert cfg["layers_per_block"] == 2 and cfg["conditioning_embedding_out_channels"] == (16, 32, 96, 256)
    converted = controlnet_to_diffusers(sd, cfg)
    assert shapes(converted) == module_shapes(lambda: ControlNetModel(**cfg))
    back = controlnet_from_diffusers(converted, cfg)  # and back to the released names
    assert shapes(back) == shapes(sd)


def test_sdxl_controlnet_diffusers_layout():
    from diffusers import ControlNetModel

    ref = manifest("controlnet_sdxl_diffusers_keys.json.gz")
    sd = meta(ref["keys"])
    layout = recognise_control(shapes(sd))
    assert (layout.kind, layout.layout, layout.family.name) == ("controlnet", "diffusers", "sdxl")
    cfg = layout.config
    assert cfg["projection_class_embeddings_input_dim"] == 2816 and cfg["cross_attention_dim"] == 2048
    assert tuple(cfg["attention_head_dim"]) == (5, 10, 20) and tuple(cfg["transformer_layers_per_block"]) == (1, 2, 10)
    for key in (
        "block_out_channels",
        "layers_per_block",
        "cross_attention_dim",
        "use_linear_projection",
        "conditioning_embedding_out_channels",
        "projection_class_embeddings_input_dim",
    ):
        want = ref["config"][key]
        assert (list(cfg[key]) if isinstance(cfg[key], tuple) else cfg[key]) == want, key
    assert shapes(sd) == module_shapes(lambda: ControlNetModel(**cfg))
    # the same network in the original layout (SDXL ControlNets exist that way too) is the same config
    ldm = recognise_control(shapes(controlnet_from_diffusers(sd, cfg)))
    assert ldm.family.name == "sdxl" and ldm.layout == "ldm"
    assert {k: ldm.config[k] for k in ("block_out_channels", "transformer_layers_per_block", "attention_head_dim")} == {
        k: cfg[k] for k in ("block_out_channels", "transformer_layers_per_block", "attention_head_dim")
    }


def test_sd15_t2i_adapter_tencentarc_layout():
    from diffusers import T2IAdapter

    ref = manifest("t2i_adapter_sd15_keys.json.gz")
    sd = meta(ref["keys"])
    layout = recognise_control(shapes(sd))
    assert (layout.kind, layout.layout, layout.family.name) == ("t2i_adapter", "tencentarc", "sd1")
    assert layout.config == {
        "in_channels": 1,
        "channels": [320, 640, 1280, 1280],
        "num_res_blocks": 2,
        "downscale_factor": 8,
        "adapter_type": "full_adapter",
    }
    assert shapes(adapter_to_diffusers(sd, layout.config)) == module_shapes(lambda: T2IAdapter(**layout.config))


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"lora_controlnet": (1,), "input_blocks.0.0.weight": (4, 4, 3, 3)}, "control-LoRA"),
        ({"task_embedding": (8, 320), "controlnet_cond_embedding.conv_in.weight": (16, 3, 3, 3)}, "Union ControlNet"),
        (
            {
                "conv_in.weight": (320, 64, 3, 3),
                "body.0.in_conv.weight": (320, 320, 1, 1),
                "body.0.body.0.block1.weight": (320, 320, 3, 3),
                "body.0.out_conv.weight": (320, 320, 1, 1),
            },
            "light or style",
        ),
        ({"model.diffusion_model.input_blocks.0.0.weight": (320, 4, 3, 3)}, "not a ControlNet or T2I-Adapter"),
    ],
)
def test_other_files_are_refused_by_name(keys, message):
    with pytest.raises(ControlFileError, match=message):
        recognise_control(keys)
    with pytest.raises(ModelFileError, match=f"x.safetensors: .*{message}"):
        control_from_state({k: torch.zeros(v) for k, v in keys.items()}, source="x.safetensors")

"""Full-size random SD1.5 and SDXL checkpoints in the released single-file layout load with zero
missing and zero unexpected weights and run one sampling step at 64x64 through the engine."""

import gc
import os
import threading

import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.manager import ModelManager

from .full_size import random_checkpoint

pytestmark = pytest.mark.slow  # builds full-size SD1.5 and SDXL checkpoints (GBs of random weights)


def one_step_prompt(ckpt: str, sdxl: bool) -> dict:
    encode = (
        {
            "class_type": "CLIPTextEncodeSDXL",
            "inputs": {
                "clip": ["1", 1],
                "width": 64,
                "height": 64,
                "crop_w": 0,
                "crop_h": 0,
                "target_width": 64,
                "target_height": 64,
                "text_g": "a red star",
                "text_l": "a red star",
            },
        }
        if sdxl
        else {"class_type": "CLIPTextEncode", "inputs": {"text": "a red star", "clip": ["1", 1]}}
    )
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": encode,
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": 0,
                "steps": 1,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "full"}},
    }


@pytest.mark.parametrize("family,ckpt_family,dtype", [("sd15", "sd1", torch.float32), ("sdxl", "sdxl", torch.float16)])
def test_full_size_checkpoint_loads_and_samples(env, family, ckpt_family, dtype):
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.schema.registry import builtin_registry

    path = env.models_dir / "checkpoints" / f"{family}-random.safetensors"
    ref = random_checkpoint(family, path)
    manager = ModelManager(cpu=True, force_dtype=dtype)  # SDXL in fp16 keeps this test within ~8 GB of RAM
    model, clip, vae = load_checkpoint(path, manager)  # raises on any missing/unexpected weight
    counted = (
        sum(p.numel() for p in model.unet.module.parameters())
        + sum(p.numel() for e in clip.encoders for p in e.model.module.parameters())
        + sum(p.numel() for p in vae.module.parameters())
    )
    stored = sum(
        torch.Size(s).numel() for k, (s, dt) in ref["keys"].items() if not k.endswith(("position_ids", "logit_scale"))
    )
    assert model.family.name == ckpt_family and counted == stored
    if family == "sd15":  # CheckpointSave writes exactly the released names, shapes and dtypes
        from nodeflow.models.saver import checkpoint_state

        state = checkpoint_state(model, clip, vae, dtype=torch.float16)
        assert {k: [list(v.shape), "F16"] for k, v in state.items()} == ref["keys"]
        del state
    del model, clip, vae
    gc.collect()
    engine = Engine(builtin_registry(), env, models=manager)
    prompt = one_step_prompt(path.name, family == "sdxl")
    result = engine.execute(Job("p", prompt, ["7"]), lambda *a: None, threading.Event())
    assert result.status == "success", result.error
    image = env.output_dir / result.outputs["7"]["images"][0]["filename"]
    assert image.is_file()
    manager.free()
    os.remove(path)

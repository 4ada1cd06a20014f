"""Inpainting with real (tiny) checkpoints: an ordinary model by masked denoising keeps the
unmasked area; a 9-channel inpainting model is detected and gets mask + masked image."""

import random
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.manager import ModelManager
from nodeflow.schema.registry import builtin_registry
from tests.sd.tiny import write_tiny_sd1


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inpaint_ckpts")
    return {
        "plain": write_tiny_sd1(folder / "plain.safetensors", trained_vae=True),
        "inpaint": write_tiny_sd1(folder / "inpaint.safetensors", in_channels=9, trained_vae=True),
    }


def scene_png(env):
    from nodeflow.demo.shapes import random_scene, render

    picture = render(random_scene(random.Random(3)), 64)
    picture.save(env.input_dir / "scene.png")
    mask = Image.new("RGB", (64, 64), "black")
    mask.paste((255, 255, 255), (0, 0, 24, 64))  # repaint the left 24 columns
    mask.save(env.input_dir / "mask.png")
    return np.asarray(picture).astype(np.float32) / 255


def run(env, prompt, out="9"):
    engine = Engine(builtin_registry(), env, models=ModelManager(cpu=True))
    outputs = [nid for nid, node in prompt.items() if node["class_type"] in ("SaveImage", "SaveLatent")]
    result = engine.execute(Job("p", prompt, outputs), lambda *a: None, threading.Event())
    assert result.status == "success", result.error
    record = result.outputs[out]["images"][0]
    return np.asarray(Image.open(env.output_dir / record["filename"])).astype(np.float32) / 255


def base(ckpt: str) -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "scene.png"}},
        "5": {"class_type": "LoadImageMask", "inputs": {"image": "mask.png", "channel": "red"}},
    }


@pytest.mark.slow  # 10-12 s of CPU each: inpainting runs on tiny models
def test_ordinary_checkpoint_keeps_the_unmasked_area(env, files):
    import os

    os.link(files["plain"], env.models_dir / "checkpoints" / "plain.safetensors")
    original = scene_png(env)
    prompt = base("plain.safetensors")
    prompt["6"] = {
        "class_type": "VAEEncodeForInpaint",
        "inputs": {"pixels": ["4", 0], "vae": ["1", 2], "mask": ["5", 0], "grow_mask_by": 0},
    }
    prompt["7"] = {
        "class_type": "KSampler",
        "inputs": {
            "model": ["1", 0],
            "seed": 1,
            "steps": 3,
            "cfg": 4.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["6", 0],
            "denoise": 0.3,
        },
    }  # a random UNet's full-noise latents are huge
    prompt["8"] = {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}}
    prompt["9"] = {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "inpaint"}}
    prompt["10"] = {"class_type": "SaveLatent", "inputs": {"samples": ["7", 0], "filename_prefix": "inpaint"}}
    prompt["11"] = {"class_type": "SaveLatent", "inputs": {"samples": ["6", 0], "filename_prefix": "encoded"}}
    out = run(env, prompt)
    from safetensors.torch import load_file

    sampled = load_file(str(env.output_dir / "inpaint_00001_.latent"))["latent_tensor"]
    encoded = load_file(str(env.output_dir / "encoded_00001_.latent"))["latent_tensor"]
    assert torch.equal(sampled[..., 3:], encoded[..., 3:])  # latent columns 3.. are unmasked: exact
    _, _, vae = load_checkpoint(files["plain"])
    round_trip = vae.decode(vae.encode(torch.from_numpy(original)[None]))[0].numpy()
    keep = np.s_[:, 40:]  # unmasked and away from the edge of the mask
    # pixels: the decoder's mid-block attention lets the repainted (random-model) area tint the
    # rest a little; it stays well within what a repaint changes
    kept, repainted = np.abs(out[keep] - round_trip[keep]).mean(), np.abs(out[:, :24] - round_trip[:, :24]).mean()
    assert kept < 0.1 and repainted > kept + 0.05


@pytest.mark.slow  # 10-12 s of CPU each: inpainting runs on tiny models
def test_inpainting_checkpoint_is_detected_and_gets_mask_and_image(env, files):
    import os

    os.link(files["inpaint"], env.models_dir / "checkpoints" / "inpaint.safetensors")
    model, _, _ = load_checkpoint(files["inpaint"])
    assert model.in_channels == 9
    scene_png(env)
    prompt = base("inpaint.safetensors")
    prompt["6"] = {
        "class_type": "InpaintModelConditioning",
        "inputs": {
            "positive": ["2", 0],
            "negative": ["3", 0],
            "vae": ["1", 2],
            "pixels": ["4", 0],
            "mask": ["5", 0],
            "noise_mask": True,
        },
    }
    prompt["7"] = {
        "class_type": "KSampler",
        "inputs": {
            "model": ["1", 0],
            "seed": 1,
            "steps": 2,
            "cfg": 4.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "positive": ["6", 0],
            "negative": ["6", 1],
            "latent_image": ["6", 2],
            "denoise": 1.0,
        },
    }
    prompt["8"] = {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}}
    prompt["9"] = {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "inpaint9"}}
    out = run(env, prompt)
    assert out.shape == (64, 64, 3)
    # the UNet's input really is 9 channels: latent (4) + mask (1) + masked-image latent (4)
    seen = {}
    unet = model.unet.module
    handle = unet.conv_in.register_forward_hook(lambda m, args, o: seen.update(shape=tuple(args[0].shape)))
    from nodeflow.nodes.inpaint_nodes import InpaintModelConditioning
    from nodeflow.sampling.guidance import Guider

    node = InpaintModelConditioning()
    cond = [[torch.zeros(1, 77, 32), {}]]
    pixels = torch.rand(1, 64, 64, 3)
    node.ctx = None
    positive, _, latent = node.run(
        cond, cond, load_checkpoint(files["inpaint"])[2], pixels, torch.ones(1, 64, 64), True
    )
    guider = Guider(model, positive, None, 1.0, tuple(latent["samples"].shape))
    guider(latent["samples"], torch.tensor([1.0]))
    handle.remove()
    assert seen["shape"] == (1, 9, 8, 8)
    assert positive[0][1]["concat_latent_image"].shape == (1, 4, 8, 8)

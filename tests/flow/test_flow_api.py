"""SD3.5 and Flux.1 through POST /prompt on a real server, from tiny files in the released layouts:
txt2img and img2img, the loaders (CheckpointLoaderSimple, UNETLoader with fp8, TripleCLIPLoader,
DualCLIPLoader, VAELoader), the SD3 negative as ComfyUI's template builds it, FluxGuidance at CFG 1."""

import numpy as np
import pytest
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.models.manager import ModelManager
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api


def sd3_prompt(ckpt="sd35_medium.safetensors", clip_from_checkpoint=False, seed=1, denoise=1.0, image=None):
    clip = ["1", 1] if clip_from_checkpoint else ["2", 0]
    p = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {
            "class_type": "TripleCLIPLoader",
            "inputs": {
                "clip_name1": "clip_l.safetensors",
                "clip_name2": "clip_g.safetensors",
                "clip_name3": "t5xxl_fp16.safetensors",
            },
        },
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red star", "clip": clip}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": clip}},
        # ComfyUI's SD3 template: the negative zeroed after the first 10% of the run
        "10": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["4", 0]}},
        "11": {
            "class_type": "ConditioningSetTimestepRange",
            "inputs": {"conditioning": ["10", 0], "start": 0.1, "end": 1.0},
        },
        "12": {
            "class_type": "ConditioningSetTimestepRange",
            "inputs": {"conditioning": ["4", 0], "start": 0.0, "end": 0.1},
        },
        "13": {
            "class_type": "ConditioningCombine",
            "inputs": {"conditioning_1": ["11", 0], "conditioning_2": ["12", 0]},
        },
        "14": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 3.0}},
        "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["14", 0],
                "seed": seed,
                "steps": 3,
                "cfg": 4.5,
                "sampler_name": "euler",
                "scheduler": "sgm_uniform",
                "positive": ["3", 0],
                "negative": ["13", 0],
                "latent_image": ["5", 0],
                "denoise": denoise,
            },
        },
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "sd3"}},
    }
    if image is not None:
        p["20"] = {"class_type": "LoadImage", "inputs": {"image": image}}
        p["21"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["1", 2]}}
        p["6"]["inputs"]["latent_image"] = ["21", 0]
    return p


def flux_prompt(
    unet="flux1-dev.safetensors", weight_dtype="default", seed=1, denoise=1.0, image=None, guidance=3.5, lora=None
):
    model = ["1", 0]
    p = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": unet, "weight_dtype": weight_dtype}},
        "2": {
            "class_type": "DualCLIPLoader",
            "inputs": {"clip_name1": "clip_l.safetensors", "clip_name2": "t5xxl_fp16.safetensors", "type": "flux"},
        },
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red star", "clip": ["2", 0]}},
        "4": {"class_type": "FluxGuidance", "inputs": {"conditioning": ["3", 0], "guidance": guidance}},
        "9": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "14": {
            "class_type": "ModelSamplingFlux",
            "inputs": {"model": model, "max_shift": 1.15, "base_shift": 0.5, "width": 64, "height": 64},
        },
        "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["14", 0],
                "seed": seed,
                "steps": 3,
                "cfg": 1.0,
                "sampler_name": "euler",
                "scheduler": "simple",
                "positive": ["4", 0],
                "negative": ["4", 0],
                "latent_image": ["5", 0],
                "denoise": denoise,
            },
        },
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["9", 0]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "flux"}},
    }
    if lora is not None:
        p["15"] = {
            "class_type": "LoraLoaderModelOnly",
            "inputs": {"model": ["1", 0], "lora_name": lora, "strength_model": 1.0},
        }
        p["14"]["inputs"]["model"] = ["15", 0]
    if image is not None:
        p["20"] = {"class_type": "LoadImage", "inputs": {"image": image}}
        p["21"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["9", 0]}}
        p["6"]["inputs"]["latent_image"] = ["21", 0]
    return p


@pytest.fixture
async def api(aiohttp_client, flow_env, registry):
    app = create_app(ServerConfig(), registry, Engine(registry, flow_env, models=ModelManager(cpu=True)), flow_env)
    return Api(await aiohttp_client(app), flow_env)


async def run(api, prompt, node="8"):
    status, body = await api.queue(prompt)
    assert status == 200, body
    history = await api.wait_history(body["prompt_id"], timeout=300)
    assert history["status"]["status_str"] == "success", history["status"]
    image = history["outputs"][node]["images"][0]
    return np.asarray(Image.open(api.env.output_dir / image.get("subfolder", "") / image["filename"]), dtype=np.float32)


async def test_sd35_txt2img_and_img2img(api):
    a = await run(api, sd3_prompt(seed=1))
    b = await run(api, sd3_prompt(seed=2))
    assert a.shape == (64, 64, 3) and np.abs(a - b).mean() > 0.5  # the seed matters
    # the same file with its text encoders inside
    c = await run(api, sd3_prompt("sd35_medium_incl_clips.safetensors", clip_from_checkpoint=True, seed=1))
    assert c.shape == (64, 64, 3)
    Image.fromarray(a.astype(np.uint8)).save(api.env.input_dir / "start.png")
    d = await run(api, sd3_prompt(seed=1, denoise=0.5, image="start.png"))
    assert d.shape == (64, 64, 3) and np.abs(d - a).mean() > 0.0


async def test_flux_txt2img_img2img_fp8_and_guidance(api):
    a = await run(api, flux_prompt(seed=1))
    assert a.shape == (64, 64, 3)
    g = await run(api, flux_prompt(seed=1, guidance=8.0))
    assert np.abs(g - a).mean() > 0.0  # the distilled guidance reaches the network
    fp8 = await run(api, flux_prompt(seed=1, weight_dtype="fp8_e4m3fn"))
    assert fp8.shape == a.shape and np.abs(fp8 - a).mean() < 20  # fp8 storage, close to the full-precision result
    s = await run(api, flux_prompt("flux1-schnell.safetensors", seed=1))
    assert s.shape == (64, 64, 3)
    Image.fromarray(a.astype(np.uint8)).save(api.env.input_dir / "flux_start.png")
    i = await run(api, flux_prompt(seed=4, denoise=0.6, image="flux_start.png"))
    assert i.shape == (64, 64, 3)


async def test_wrong_text_encoder_is_a_clear_error(api):
    p = flux_prompt()
    p["2"]["inputs"]["clip_name2"] = "clip_g.safetensors"
    status, body = await api.queue(p)
    assert status == 200
    history = await api.wait_history(body["prompt_id"], timeout=300)
    messages = [m for m in history["status"]["messages"] if m[0] == "execution_error"]
    assert messages and "clip_g" in messages[0][1]["exception_message"]

"""SD3.5 and Flux.1 API prompts over the tiny released-layout files of tests/flow (64x64, 3 steps), and
``run``: queue one on the in-process server and read back the saved picture."""

import numpy as np
from PIL import Image


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


async def run(api, prompt, node="8"):
    status, body = await api.queue(prompt)
    assert status == 200, body
    history = await api.wait_history(body["prompt_id"], timeout=300)
    assert history["status"]["status_str"] == "success", history["status"]
    image = history["outputs"][node]["images"][0]
    return np.asarray(Image.open(api.env.output_dir / image.get("subfolder", "") / image["filename"]), dtype=np.float32)

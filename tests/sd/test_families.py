"""SD2 (v-prediction through CheckpointLoader's config) and SDXL-refiner files, tiny, in the
released layouts: detected, loaded and sampled through the engine."""

import os

import pytest

from nodeflow.models.loader import load_checkpoint

from .tiny import write_tiny_family


@pytest.fixture(scope="module")
def family_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("families")
    return {f: write_tiny_family(folder / f"{f}.safetensors", f) for f in ("sd2", "sdxl_refiner")}


def test_detection(family_files):
    sd2, clip, _ = load_checkpoint(family_files["sd2"])
    assert sd2.family.name == "sd2" and [e.name for e in clip.encoders] == ["clip_h"] and clip.encoders[0].pad == 0
    refiner, clip, _ = load_checkpoint(family_files["sdxl_refiner"])
    assert refiner.family.name == "sdxl_refiner" and [e.name for e in clip.encoders] == ["clip_g"]
    cond, pooled, _ = clip.encode("a red star")
    assert cond.shape == (1, 77, 64) and pooled.shape == (1, 64)


def sample_prompt(ckpt, encode):
    return {
        "1": ckpt,
        "2": encode("a red star"),
        "3": encode(""),
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": 1,
                "steps": 2,
                "cfg": 5.0,
                "sampler_name": "dpmpp_2m",
                "scheduler": "karras",
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "SaveLatent", "inputs": {"samples": ["5", 0], "filename_prefix": "f"}},
    }


def test_sd2_v_prediction_via_config(family_files, sd_env, run_prompt):
    os.link(family_files["sd2"], sd_env.models_dir / "checkpoints" / "sd2.safetensors")
    ckpt = {
        "class_type": "CheckpointLoader",
        "inputs": {"config_name": "v2-inference-v.yaml", "ckpt_name": "sd2.safetensors"},
    }

    def encode(text):
        return {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}}

    result, _ = run_prompt(sample_prompt(ckpt, encode))
    assert result.status == "success", result.error
    model, _, _ = load_checkpoint(family_files["sd2"], prediction="v")
    assert model.prediction == "v"


def test_sdxl_refiner_with_aesthetic_score(family_files, sd_env, run_prompt):
    os.link(family_files["sdxl_refiner"], sd_env.models_dir / "checkpoints" / "refiner.safetensors")
    ckpt = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "refiner.safetensors"}}

    def encode(text):
        return {
            "class_type": "CLIPTextEncodeSDXLRefiner",
            "inputs": {
                "ascore": 6.0,
                "width": 64,
                "height": 64,
                "text": text,
                "clip": ["1", 1],
            },
        }

    result, _ = run_prompt(sample_prompt(ckpt, encode))
    assert result.status == "success", result.error

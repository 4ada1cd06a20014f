"""A ComfyUI V1 pack that imports comfy.* and calls into MODEL / CLIP / VAE runs unchanged: through
the engine (its sampler equals the built-in KSampler exactly; its model patches change the result)
and through a real server (POST /prompt)."""

import os
import sys
import threading
import time

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import Folders
from nodeflow.graph.validate import validate_prompt
from nodeflow.models.manager import ModelManager
from nodeflow.plugins.loader import load_plugins
from nodeflow.schema.registry import builtin_registry
from tests.helpers.server_process import call, free_port, start

from .comfy_pack_source import SOURCE


def _pack(folder):
    (folder / "comfy_style_pack").mkdir(parents=True)
    (folder / "comfy_style_pack" / "__init__.py").write_text(SOURCE)
    return folder


def _base(base, tiny_file):
    env = Folders(base)
    env.ensure()
    os.link(tiny_file, env.models_dir / "checkpoints" / "tiny.safetensors")
    return env


def _sampler(class_type, model, positive, seed=7, sampler="euler_ancestral", scheduler="karras", cfg=5.0):
    return {
        "class_type": class_type,
        "inputs": {
            "model": model,
            "seed": seed,
            "steps": 3,
            "cfg": cfg,
            "sampler_name": sampler,
            "scheduler": scheduler,
            "positive": positive,
            "negative": ["4", 0],
            "latent_image": ["5", 0],
            "denoise": 1.0,
        },
    }


def _compare(a, b):
    return {"class_type": "PackCompare", "inputs": {"a": a, "b": b}}


BASE = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red star", "clip": ["1", 1]}},
    "3": {"class_type": "PackEncode", "inputs": {"text": "a red star", "clip": ["1", 1]}},
    "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
    "6": _sampler("KSampler", ["1", 0], ["2", 0]),
    "7": _sampler("PackKSampler", ["1", 0], ["3", 0]),
    "8": _compare(["6", 0], ["7", 0]),
}


@pytest.fixture
def pack_engine(tmp_path, tiny_file):
    registry = builtin_registry()
    statuses = {s.name: s for s in load_plugins(registry, [_pack(tmp_path / "custom_nodes")])}
    assert statuses["comfy_style_pack"].ok, statuses["comfy_style_pack"].error
    env = _base(tmp_path / "base", tiny_file)
    return registry, env, Engine(registry, env, models=ModelManager(cpu=True))


def _run(pack_engine, prompt):
    registry, env, engine = pack_engine
    validation = validate_prompt(registry, env, prompt)
    assert validation.ok, validation.node_errors
    result = engine.execute(Job("p", prompt, validation.outputs), lambda *a: None, threading.Event())
    assert result.status == "success", result.error
    return {nid: float(ui["text"][0]) for nid, ui in result.outputs.items() if "text" in ui}


@pytest.mark.slow  # 32 s of CPU: a pack's sampler against the built-in one on the tiny model
def test_pack_sampling_encoding_and_patches_through_the_engine(pack_engine):
    prompt = dict(BASE)
    prompt.update(
        {
            "10": _sampler("PackGuidedSampler", ["1", 0], ["2", 0], sampler="euler", scheduler="normal"),
            "11": _sampler("KSampler", ["1", 0], ["2", 0], sampler="euler", scheduler="normal"),
            "12": _compare(["10", 0], ["11", 0]),
            "13": {"class_type": "PackPatchModel", "inputs": {"model": ["1", 0], "delta": 0.5, "unet_scale": 1.0}},
            "14": _sampler("KSampler", ["13", 0], ["2", 0]),
            "15": _compare(["6", 0], ["14", 0]),
            "16": {"class_type": "PackCFGScale", "inputs": {"model": ["1", 0], "multiplier": 0.0}},
            "17": _sampler("PackKSampler", ["16", 0], ["2", 0]),
            "18": _sampler("KSampler", ["1", 0], ["2", 0], cfg=0.0),
            "19": _compare(["17", 0], ["18", 0]),
            "20": {"class_type": "PackPatchModel", "inputs": {"model": ["1", 0], "delta": 0.0, "unet_scale": 0.5}},
            "21": _sampler("KSampler", ["20", 0], ["2", 0]),
            "22": _compare(["6", 0], ["21", 0]),
            "23": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
            "24": {"class_type": "PackDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}},
            "25": _compare(["23", 0], ["24", 0]),
        }
    )
    diffs = _run(pack_engine, prompt)
    assert diffs["8"] == 0.0  # pack encode + comfy.sample.sample == CLIPTextEncode + KSampler, bit for bit
    assert diffs["12"] == 0.0  # a CFGGuider + sampler_object + calculate_sigmas == KSampler
    assert diffs["25"] == 0.0  # and the pack's VAE decode == VAEDecode
    assert diffs["15"] > 1e-3  # the add_patches weight change reached the UNet
    assert diffs["19"] < 1e-3  # a cfg function scaling guidance by 0 gives cfg 0's result
    assert diffs["22"] > 1e-3  # the UNet function wrapper's scaling reached the result
    pack = sys.modules["custom_nodes.comfy_style_pack"]
    assert pack.SEEN["cond_or_uncond"][0] == [0, 1] and pack.SEEN["steps"][:3] == [(0, 3), (1, 3), (2, 3)]


@pytest.mark.slow  # a server process on a tiny SD1 model
def test_pack_prompt_through_a_real_server(tmp_path, tiny_file):
    _pack(tmp_path / "custom_nodes")
    _base(tmp_path, tiny_file)
    port = free_port()
    proc = start(tmp_path, port, custom_nodes=True)
    try:
        answer = call(port, "POST", "/prompt", {"prompt": BASE, "client_id": "t"})
        assert answer["node_errors"] == {}
        prompt_id = answer["prompt_id"]
        for _ in range(600):
            history = call(port, "GET", f"/history/{prompt_id}")
            if prompt_id in history and history[prompt_id]["status"]["completed"]:
                break
            time.sleep(0.2)
        entry = history[prompt_id]
        assert entry["status"]["status_str"] == "success", entry["status"]
        assert entry["outputs"]["8"] == {"text": ["0.0"]}
    finally:
        proc.terminate()
        proc.wait(timeout=20)

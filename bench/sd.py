"""Stable Diffusion benchmark: a full-size random SD1.5 checkpoint (the released layout), txt2img
64x64, 6 steps euler/normal, CFG 7, through the engine: cold time (load + first image), warm time
(new seed), and the bare model floor measured in the same run (the same text-encoder, UNet and VAE
forward calls made directly, no engine). Prints JSON; the target is warm <= 1.05x floor.

ControlNets: a full-size random SD1.5 ControlNet (control_v11p_sd15_canny's layout) on the same
model and sampler; seconds per sampling step with none, one and two chained ControlNets, measured
interleaved; the extra cost of one ControlNet over a plain step (a UNet step), target <= 0.6.

    python bench/sd.py [--repeats 3] [--no-controlnet]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodeflow.engine.executor import Engine  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.engine.job import Job  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.folders import Folders  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.models.control_files import load_control_file  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.models.manager import ModelManager  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.sampling.run import SampleRequest, ksampler_sigmas, sample_with_sigmas  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.schema.registry import builtin_registry  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from tests.sd.full_size import random_checkpoint, random_controlnet  # noqa: E402 -- run as a script: after the repo root is put on sys.path

STEPS, CFG = 6, 7.0


def prompt(seed: int) -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": f"a red star {seed}", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": f"blurry {seed}", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": seed,
                "steps": STEPS,
                "cfg": CFG,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "PreviewImage", "inputs": {"images": ["6", 0]}},
    }


def run(engine: Engine, seed: int) -> float:
    start = time.perf_counter()
    result = engine.execute(Job(f"p{seed}", prompt(seed), ["7"]), lambda *a: None, threading.Event())
    if result.status != "success":
        raise RuntimeError(result.error)
    return time.perf_counter() - start


@torch.no_grad()
def floor(model, clip, vae) -> float:
    """The same network calls, made directly: 2 text encodings, 6 batched UNet calls, 1 decode."""
    text = clip.encoders[0].model.module
    unet, decoder = model.unet.module, vae.module
    ids = torch.full((1, 77), 49407)
    ids[0, 0] = 49406
    start = time.perf_counter()
    context = torch.cat([text(input_ids=ids).last_hidden_state for _ in range(2)])
    x = torch.randn(2, 4, 8, 8)
    for t in torch.linspace(999, 0, STEPS):
        eps = unet(x, t.expand(2), encoder_hidden_states=context, return_dict=False)[0]
        x = x - 0.1 * eps
    decoder.decode(x[:1] / 0.18215, return_dict=False)
    return time.perf_counter() - start


@torch.no_grad()
def controlnet_steps(model, clip, control, repeats: int) -> dict:
    """Seconds per step (median) of the KSampler's sampling with 0, 1 and 2 ControlNets (the same
    network chained twice, as two Apply ControlNet nodes would), runs interleaved."""
    positive = [[clip.encode("a red star")[0], {}]]
    negative = [[clip.encode("blurry")[0], {}]]
    hint = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    one = control.copy().set_cond_hint(hint, 1.0)
    chains = {0: None, 1: one, 2: control.copy().set_cond_hint(hint, 0.8).set_previous_controlnet(one)}
    sigmas = ksampler_sigmas(model, "normal", STEPS)
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    per_step: dict[int, list[float]] = {k: [] for k in chains}
    for seed in range(repeats + 1):  # the first round warms up and is not counted
        for k, chain in chains.items():
            add = (
                (lambda c, chain=chain: [[t, {**o, "control": chain}] for t, o in c])
                if chain is not None
                else (lambda c: c)
            )
            start = time.perf_counter()
            sample_with_sigmas(SampleRequest(model, add(positive), add(negative), latent, seed, CFG), sigmas)
            if seed:
                per_step[k].append((time.perf_counter() - start) / STEPS)
    return {k: statistics.median(v) for k, v in per_step.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-controlnet", action="store_true", help="skip the ControlNet figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = Folders(tmp)
        env.ensure()
        random_checkpoint("sd15", env.models_dir / "checkpoints" / "sd15.safetensors")
        manager = ModelManager(cpu=True)
        engine = Engine(builtin_registry(), env, models=manager)
        cold = run(engine, 0)
        model, clip, vae = manager.load(manager.cached_keys()[0], lambda: None)
        warm, floors = [], []
        for seed in range(1, args.repeats + 1):  # interleaved, so drift of a shared machine hits both alike
            warm.append(run(engine, seed))
            floors.append(floor(model, clip, vae))
        controlnet = None
        if not args.no_controlnet:
            path = env.models_dir / "controlnet" / "control_sd15.safetensors"
            random_controlnet(path)
            steps = controlnet_steps(model, clip, load_control_file(path, manager), args.repeats)
            controlnet = {
                "unet_step_s": round(steps[0], 3),
                "one_controlnet_step_s": round(steps[1], 3),
                "two_controlnets_step_s": round(steps[2], 3),
                "extra_step_s_one": round(steps[1] - steps[0], 3),
                "extra_step_s_two": round(steps[2] - steps[0], 3),
                "one_controlnet_over_unet_step": round((steps[1] - steps[0]) / steps[0], 3),
                "two_controlnets_over_unet_step": round((steps[2] - steps[0]) / steps[0], 3),
                "target_one_over_unet_step": 0.6,
            }
    warm_s, floor_s = statistics.median(warm), statistics.median(floors)
    pair_ratio = statistics.median(w / f for w, f in zip(warm, floors, strict=False))
    print(
        json.dumps(
            {
                "benchmark": "sd15_txt2img_64px_6steps_euler_cfg7",
                "device": str(manager.device),
                "cold_s": round(cold, 2),
                "warm_s": round(warm_s, 3),
                "floor_s": round(floor_s, 3),
                "warm_over_floor": round(warm_s / floor_s, 3),
                "median_pair_ratio": round(pair_ratio, 3),
                "target_warm_over_floor": 1.05,
                "warm_runs_s": [round(w, 3) for w in warm],
                "floor_runs_s": [round(f, 3) for f in floors],
                "controlnet": controlnet,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()

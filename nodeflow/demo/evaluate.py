"""Judge the demo text-to-image checkpoint: generate held-out single-shape prompts through
NodeFlow's own loader and sampler, and let the judge name the colour and shape it sees.

    python -m nodeflow.demo.evaluate [--checkpoint nodeflow/demo/weights/checkpoints/nodeflow-demo-sd1.safetensors]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from .judge import COLOUR_NAMES, load_judge
from .shapes import SHAPES, caption, random_scene

WEIGHTS = Path(__file__).resolve().parent / "weights"
CHECKPOINT = WEIGHTS / "checkpoints" / "nodeflow-demo-sd1.safetensors"
HELD_OUT_SEED = 999_001  # never used by a trainer


def held_out_scenes(count: int, seed: int = HELD_OUT_SEED) -> list:
    rng = random.Random(seed)
    return [random_scene(rng, max_shapes=1) for _ in range(count)]


@torch.no_grad()
def evaluate(checkpoint: Path = CHECKPOINT, count: int = 100, steps: int = 20, cfg: float = 5.0,
             sampler: str = "euler", scheduler: str = "normal", batch: int = 25) -> dict:
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.sampling.run import SampleRequest, ksample

    model, clip, vae = load_checkpoint(checkpoint)
    judge = load_judge(WEIGHTS / "judge.safetensors")
    scenes = held_out_scenes(count)
    empty = clip.encode("")[0]
    colour_hits = shape_hits = 0
    start = time.time()
    for first in range(0, count, batch):
        group = scenes[first:first + batch]
        conds = torch.cat([clip.encode(caption(s))[0] for s in group])
        latent = {"samples": torch.zeros(len(group), 4, 8, 8)}
        out = ksample(SampleRequest(model, [[conds, {}]], [[empty, {}]], latent, seed=first, cfg=cfg,
                                    sampler_name=sampler), scheduler, steps)
        images = vae.decode(out["samples"]).permute(0, 3, 1, 2)
        colour_logits, shape_logits = judge(images)
        for scene, c, s in zip(group, colour_logits.argmax(1), shape_logits.argmax(1)):
            colour_hits += COLOUR_NAMES[int(c)] == scene.shapes[0].colour
            shape_hits += SHAPES[int(s)] == scene.shapes[0].kind
    return {"prompts": count, "colour_accuracy": colour_hits / count, "shape_accuracy": shape_hits / count,
            "steps": steps, "cfg": cfg, "sampler": sampler, "seconds": round(time.time() - start, 1)}


def expander_quality(folder: Path = WEIGHTS / "prompt_expanders" / "nodeflow-demo-expander",
                     count: int = 200) -> dict:
    """Share of held-out short prompts whose greedy expansion is a valid caption of the data set
    that keeps every word of the short prompt."""
    from nodeflow.models.expander import generate, load_expander

    from .shapes import parse_caption
    from .train_expander import SYSTEM, short_prompt

    expander = load_expander(folder)
    rng = random.Random(HELD_OUT_SEED)
    good, failures = 0, []
    for _ in range(count):
        short = short_prompt(random_scene(rng, max_shapes=1), rng)
        text = generate(expander, short, seed=0, temperature=0.0, mode="instruct", instruction=SYSTEM).text
        words = set(text.replace(",", " ").split())
        if parse_caption(text) is not None and all(w in words for w in short.split()):
            good += 1
        elif len(failures) < 5:
            failures.append([short, text])
    return {"prompts": count, "valid_and_complete": good / count, "examples_of_failures": failures}


def upscaler_quality(path: Path = WEIGHTS / "upscale_models" / "nodeflow-demo-4x.safetensors", count: int = 32) -> dict:
    """PSNR of the demo upscaler and of bicubic on held-out 256x256 renders (4x from 64x64)."""
    from nodeflow.models.upscaler import load_upscale_model

    from .train_upscaler import psnr_report

    descriptor = load_upscale_model(path)
    with torch.no_grad():
        report = psnr_report(descriptor.model.float().eval(), HELD_OUT_SEED, count)
    report["gain_db"] = round(report["psnr_model"] - report["psnr_bicubic"], 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cfg", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(evaluate(args.checkpoint, args.count, args.steps, args.cfg)))


if __name__ == "__main__":
    main()

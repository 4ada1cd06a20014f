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

"""The demo pack's evaluator: a small CNN that names the colour and the kind of the shape in a
64x64 single-shape image, trained on the generator's own labels. It judges generated images
for the quality bars; its accuracy on real (rendered) images is reported beside its verdicts.

    python -m nodeflow.demo.judge --out nodeflow/demo/weights/judge.safetensors
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from .plan import pack_path, run_command, stage_arguments
from .shapes import COLOURS, SHAPES, random_scene, render

COLOUR_NAMES = tuple(COLOURS)


class Judge(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        chans = (3, 32, 64, 96, 128)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in itertools.pairwise(chans))
        self.colour = nn.Linear(128, len(COLOUR_NAMES))
        self.shape = nn.Linear(128, len(SHAPES))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: [B,3,64,64] in 0..1 -> (colour logits, shape logits)."""
        for conv in self.convs:
            x = F.max_pool2d(F.silu(conv(x)), 2)
        features = x.amax(dim=(2, 3))
        return self.colour(features), self.shape(features)

    @torch.no_grad()
    def classify(self, images: torch.Tensor) -> list[tuple[str, str]]:
        """IMAGE tensors [B,H,W,3] 0..1 (any size; resized to 64) -> [(colour, shape), ...]."""
        x = images.permute(0, 3, 1, 2).float()
        if x.shape[-1] != 64 or x.shape[-2] != 64:
            x = F.interpolate(x, size=(64, 64), mode="area")
        colour, shape = self(x)
        return [
            (COLOUR_NAMES[c], SHAPES[s])
            for c, s in zip(colour.argmax(1).tolist(), shape.argmax(1).tolist(), strict=False)
        ]


def batch(rng: random.Random, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    images, colours, shapes = [], [], []
    for _ in range(count):
        scene = random_scene(rng, max_shapes=1)
        images.append(np.asarray(render(scene, 64, jitter=rng)))
        colours.append(COLOUR_NAMES.index(scene.shapes[0].colour))
        shapes.append(SHAPES.index(scene.shapes[0].kind))
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return x, torch.tensor(colours), torch.tensor(shapes)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Blur and noise so the judge also reads the softer images a small model generates."""
    if torch.rand((), generator=gen) < 0.5:
        x = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (x + 0.04 * torch.randn(x.shape, generator=gen)).clamp(0, 1)


def accuracy(judge: Judge, seed: int, count: int = 1000) -> dict:
    x, colours, shapes = batch(random.Random(seed), count)
    with torch.no_grad():
        c, s = judge(x)
    return {
        "colour": round(float((c.argmax(1) == colours).float().mean()), 4),
        "shape": round(float((s.argmax(1) == shapes).float().mean()), 4),
        "images": count,
    }


def train(steps: int, seed: int) -> tuple[Judge, dict]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    judge = Judge()
    opt = torch.optim.AdamW(judge.parameters(), lr=2e-3)
    start = time.time()
    for step in range(steps):
        x, colours, shapes = batch(rng, 64)
        c, s = judge(augment(x, gen))
        loss = F.cross_entropy(c, colours) + F.cross_entropy(s, shapes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(json.dumps({"step": step, "loss": round(loss.item(), 4)}), flush=True)
    judge.eval()
    return judge, {
        "steps": steps,
        "seconds": round(time.time() - start, 1),
        "held_out_accuracy": accuracy(judge, seed + 999),
    }


def save_judge(judge: Judge, report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in judge.state_dict().items()}, str(out), metadata={"report": json.dumps(report)}
    )


def load_judge(path: Path) -> Judge:
    judge = Judge()
    judge.load_state_dict(load_file(str(path)))
    return judge.eval()


def arguments() -> argparse.ArgumentParser:
    return stage_arguments("judge", __doc__, pack_path("judge"))


def main(argv: list[str] | None = None) -> None:
    def run(args: argparse.Namespace) -> dict:
        judge, report = train(args.steps, args.seed)
        save_judge(judge, report, args.out)
        return report

    run_command(arguments(), run, argv)


if __name__ == "__main__":
    main()

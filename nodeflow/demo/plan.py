"""The committed recipe of the demo pack, and the command line every trainer shares.

``PLAN`` holds steps, seed, data-pool size and batch per stage, exactly what made the committed weights;
``train.py`` runs it, and each trainer's own command (``python -m nodeflow.demo.train_vae`` ...)
defaults to it, so a stage run alone reproduces its part of the pack.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch

WEIGHTS = Path(__file__).resolve().parent / "weights"
PACK_FILES = {  # each model's place under the weights folder, in the model-folder layout the loader nodes read
    "judge": "judge.safetensors",
    "checkpoint": "checkpoints/nodeflow-demo-sd1.safetensors",
    "inpaint_unet": "unet/nodeflow-demo-inpaint-unet.safetensors",
    "expander": "prompt_expanders/nodeflow-demo-expander",
    "upscaler": "upscale_models/nodeflow-demo-4x.safetensors",
}


def pack_path(model: str, weights: Path = WEIGHTS) -> Path:
    """Where ``model`` (a key of PACK_FILES) lives in the pack at ``weights``."""
    return weights / PACK_FILES[model]


class Stage(NamedTuple):
    steps: int
    seed: int
    pool: int = 0  # training images rendered up front; 0: the trainer draws fresh data every step
    batch: int = 0  # 0: the trainer's own fixed batch


PLAN = {
    "judge": Stage(800, 99),
    "vae": Stage(1500, 1234, pool=20000, batch=16),
    "t2i": Stage(5000, 4321, pool=24000, batch=64),
    "inpaint": Stage(600, 555, pool=8000, batch=64),
    "expander": Stage(1200, 77),
    "upscaler": Stage(3000, 2024, pool=1500, batch=16),
}


def stage_arguments(stage: str, doc: str, out: Path) -> argparse.ArgumentParser:
    """--steps/--seed(/--pool/--batch)/--threads/--out with the plan's values as defaults."""
    plan = PLAN[stage]
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--steps", type=int, default=plan.steps)
    parser.add_argument("--seed", type=int, default=plan.seed)
    if plan.pool:
        parser.add_argument("--pool", type=int, default=plan.pool, help="training images rendered for this stage")
    if plan.batch:
        parser.add_argument("--batch", type=int, default=plan.batch)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=out)
    return parser


def run_command(
    parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], Any], argv: list[str] | None = None
) -> None:
    """Parse, set the thread count, run, and print the report as JSON."""
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps(run(args)), flush=True)

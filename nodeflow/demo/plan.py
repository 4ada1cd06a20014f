"""The committed recipe of the demo pack, and the command line every trainer shares.

``PLAN`` holds (steps, seed, data-pool size) per stage, exactly what made the committed weights;
``train.py`` runs it, and each trainer's own command (``python -m nodeflow.demo.train_vae`` ...)
defaults to it, so a stage run alone reproduces its part of the pack.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import torch

WEIGHTS = Path(__file__).resolve().parent / "weights"
PLAN = {
    "judge": (800, 99, 0),
    "vae": (1500, 1234, 20000),
    "t2i": (4500, 4321, 24000),
    "inpaint": (600, 555, 8000),
    "expander": (1200, 77, 0),
    "upscaler": (3000, 2024, 1500),
}


def stage_arguments(stage: str, doc: str, out: Path) -> argparse.ArgumentParser:
    """--steps/--seed(/--pool)/--threads/--out with the plan's values as defaults."""
    steps, seed, pool = PLAN[stage]
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--seed", type=int, default=seed)
    if pool:
        parser.add_argument("--pool", type=int, default=pool, help="training images rendered for this stage")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=out)
    return parser


def run_command(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], Any],
                argv: list[str] | None = None) -> None:
    """Parse, set the thread count, run, and print the report as JSON."""
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps(run(args)), flush=True)

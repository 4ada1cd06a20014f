"""Regenerate the whole demo pack, seeded, in one command:

    python -m nodeflow.demo.train                      # everything, into nodeflow/demo/weights
    python -m nodeflow.demo.train --only upscaler      # one stage (others are read from --weights)
    python -m nodeflow.demo.train --scale 0.01 --weights /tmp/pack --work /tmp/build   # a quick dry run

Stages, in order (each is also a module of its own with more options):
judge (the evaluator, whose features the upscaler's perceptual loss uses) -> vae -> t2i (text encoder
+ UNet, packed with the VAE into the SD1 single-file checkpoint) -> inpaint (9-channel UNet
fine-tuned from t2i) -> expander -> upscaler, then the quality report when the package's own
weights were written. ``--scale`` multiplies every step count and data-pool size (for dry runs).
Per-stage seconds and the quality figures go to ``<work>/train_report.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

WEIGHTS = Path(__file__).resolve().parent / "weights"
STAGES = ("judge", "vae", "t2i", "inpaint", "expander", "upscaler")
# (steps, seed, data-pool size) of the committed weights
PLAN = {
    "judge": (800, 99, 0),
    "vae": (1500, 1234, 20000),
    "t2i": (4500, 4321, 24000),
    "inpaint": (600, 555, 8000),
    "expander": (2500, 77, 0),
    "upscaler": (3000, 2024, 1500),
}


class Paths:
    def __init__(self, weights: Path, work: Path) -> None:
        self.weights, self.work = weights, work
        self.judge = weights / "judge.safetensors"
        self.checkpoint = weights / "checkpoints" / "nodeflow-demo-sd1.safetensors"
        self.inpaint_unet = weights / "unet" / "nodeflow-demo-inpaint-unet.safetensors"
        self.expander = weights / "prompt_expanders" / "nodeflow-demo-expander"
        self.upscaler = weights / "upscale_models" / "nodeflow-demo-4x.safetensors"
        self.vae_pt, self.t2i_pt, self.inpaint_pt = work / "vae.pt", work / "t2i.pt", work / "inpaint.pt"

    def vae_source(self) -> Path:
        """train_vae's output when this run made one, else the VAE inside the packed checkpoint."""
        return self.vae_pt if self.vae_pt.exists() else self.checkpoint


def run_stage(name: str, paths: Paths, scale: float) -> dict:
    steps, seed, pool = PLAN[name]
    steps, pool = max(2, round(steps * scale)), max(64, round(pool * scale))
    if name == "judge":
        from .judge import save_judge, train

        judge, report = train(steps, seed)
        save_judge(judge, report, paths.judge)
        return report
    if name == "vae":
        from .train_vae import train

        return train(steps, 32, seed, paths.vae_pt, pool)
    if name == "t2i":
        from .pack import pack
        from .train_t2i import default_tokenizer, train

        report = train(paths.vae_source(), steps, 64, seed, pool, paths.t2i_pt, default_tokenizer())
        return {**report, "packed": pack(paths.t2i_pt, paths.checkpoint, paths.vae_source())}
    if name == "inpaint":
        from .pack import pack_unet
        from .train_inpaint import train

        report = train(paths.t2i_pt, steps, seed, paths.inpaint_pt, pool=pool, vae=paths.vae_source())
        return {**report, "packed": pack_unet(paths.inpaint_pt, paths.inpaint_unet)}
    if name == "expander":
        from .train_expander import train

        return train(paths.expander, steps, seed)
    if name == "upscaler":
        from .train_upscaler import train

        return train(steps, seed, paths.upscaler, images=pool, judge_path=paths.judge)
    raise ValueError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma-separated stages of {','.join(STAGES)}")
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="where the packed weights go")
    parser.add_argument("--work", type=Path, default=Path("demo_build"), help="training snapshots and pools")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply steps and pool sizes (dry runs)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; stages are {', '.join(STAGES)}")
    torch.set_num_threads(args.threads)
    paths = Paths(args.weights.resolve(), args.work.resolve())
    paths.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"scale": args.scale, "stages": {}}
    started = time.time()
    for number, name in enumerate(stages, 1):
        print(json.dumps({"stage": name, "of": f"{number}/{len(stages)}"}), flush=True)
        stage_start = time.time()
        report["stages"][name] = {**run_stage(name, paths, args.scale), "stage_seconds": round(time.time() - stage_start, 1)}
    report["total_seconds"] = round(time.time() - started, 1)
    if paths.weights == WEIGHTS.resolve() and args.scale == 1.0:
        from .evaluate import full_report

        report["quality"] = full_report()
    (paths.work / "train_report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({"total_seconds": report["total_seconds"], "report": str(paths.work / "train_report.json")}))
    return report


if __name__ == "__main__":
    main()

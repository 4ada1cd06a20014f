"""Regenerate the whole demo pack, seeded, in one command:

    python -m nodeflow.demo.train                      # everything, into nodeflow/demo/weights
    python -m nodeflow.demo.train --only upscaler      # one stage (others are read from --weights)
    python -m nodeflow.demo.train --scale 0.01 --weights /tmp/pack --work /tmp/build   # a quick dry run

Stages (each is also a module of its own with more options) run in two lanes, one core each:
the main lane vae -> t2i (text encoder + UNet, packed with the VAE into the SD1 single-file
checkpoint) -> inpaint (9-channel UNet fine-tuned from t2i), and beside it, in a child process,
judge (the evaluator, whose features the upscaler's perceptual loss uses) -> expander -> upscaler.
Two one-thread jobs get ~1.45x the work of one two-thread job out of this 2-core CPU; when the
side lane ends, the main lane takes both cores. ``--serial`` runs everything in one process.
Then the quality report, when the package's own weights were written. ``--scale`` multiplies every
step count and data-pool size (for dry runs). Per-stage seconds and the quality figures go to
``<work>/train_report.json``, the side lane's log to ``<work>/side_lane.log``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from .plan import PLAN, WEIGHTS, pack_path

STAGES = ("judge", "vae", "t2i", "inpaint", "expander", "upscaler")
SIDE_LANE = ("judge", "expander", "upscaler")  # independent of the vae -> t2i -> inpaint chain


class Paths:
    def __init__(self, weights: Path, work: Path) -> None:
        self.weights, self.work = weights, work
        self.judge, self.checkpoint = pack_path("judge", weights), pack_path("checkpoint", weights)
        self.inpaint_unet, self.expander = pack_path("inpaint_unet", weights), pack_path("expander", weights)
        self.upscaler = pack_path("upscaler", weights)
        self.vae_pt, self.t2i_pt, self.inpaint_pt = work / "vae.pt", work / "t2i.pt", work / "inpaint.pt"

    def vae_source(self) -> Path:
        """train_vae's output when this run made one, else the VAE inside the packed checkpoint."""
        return self.vae_pt if self.vae_pt.exists() else self.checkpoint


class CoreShare:
    """The main lane's thread count: one core while the side lane runs, all of them after.
    Trainers call it once per step (``torch.set_num_threads`` only acts on the calling thread)."""

    def __init__(self, side: subprocess.Popen | None, threads: int) -> None:
        self.side, self.threads = side, threads
        torch.set_num_threads(1 if side is not None else threads)

    def __call__(self) -> None:
        if self.side is not None and self.side.poll() is not None:
            self.side = None
            torch.set_num_threads(self.threads)
            print(json.dumps({"side_lane": "done", "main_lane_threads": self.threads}), flush=True)


def run_stage(name: str, paths: Paths, scale: float, on_step=None) -> dict:
    steps, seed, pool, batch = PLAN[name]
    steps, pool = max(2, round(steps * scale)), max(64, round(pool * scale))
    if name == "judge":
        from .judge import save_judge, train

        judge, report = train(steps, seed)
        save_judge(judge, report, paths.judge)
        return report
    if name == "vae":
        from .train_vae import train

        return train(steps, batch, seed, paths.vae_pt, pool, on_step=on_step)
    if name == "t2i":
        from .pack import pack
        from .train_t2i import default_tokenizer, train

        report = train(paths.vae_source(), steps, batch, seed, pool, paths.t2i_pt, default_tokenizer(), on_step=on_step)
        return {**report, "packed": pack(paths.t2i_pt, paths.checkpoint, paths.vae_source())}
    if name == "inpaint":
        from .pack import pack_unet
        from .train_inpaint import train

        report = train(
            paths.t2i_pt, steps, seed, paths.inpaint_pt, pool=pool, batch=batch, vae=paths.vae_source(), on_step=on_step
        )
        return {**report, "packed": pack_unet(paths.inpaint_pt, paths.inpaint_unet)}
    if name == "expander":
        from .train_expander import train

        return train(paths.expander, steps, seed)
    if name == "upscaler":
        from .train_upscaler import train

        return train(steps, seed, paths.upscaler, batch=batch, images=pool, judge_path=paths.judge)
    raise ValueError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")


def start_side_lane(stages: list[str], args: argparse.Namespace, work: Path) -> subprocess.Popen:
    """The side lane as a child process with one thread; its log goes to ``work/side_lane.log``."""
    command = [
        sys.executable,
        "-m",
        "nodeflow.demo.train",
        "--serial",
        "--no-quality",
        "--threads",
        "1",
        "--only",
        ",".join(stages),
        "--scale",
        str(args.scale),
        "--weights",
        str(args.weights.resolve()),
        "--work",
        str(work / "side_lane"),
    ]
    print(json.dumps({"side_lane": stages, "log": str(work / "side_lane.log")}), flush=True)
    with (work / "side_lane.log").open("w") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])


def run_lane(stages: list[str], paths: Paths, scale: float, report: dict, on_step=None) -> None:
    for number, name in enumerate(stages, 1):
        print(json.dumps({"stage": name, "of": f"{number}/{len(stages)}"}), flush=True)
        stage_start = time.time()
        report[name] = {**run_stage(name, paths, scale, on_step), "stage_seconds": round(time.time() - stage_start, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma-separated stages of {','.join(STAGES)}")
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="where the packed weights go")
    parser.add_argument("--work", type=Path, default=Path("demo_build"), help="training snapshots and pools")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply steps and pool sizes (dry runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--serial", action="store_true", help="one stage after another in this process")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality report at the end")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; stages are {', '.join(STAGES)}")
    paths = Paths(args.weights.resolve(), args.work.resolve())
    paths.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"scale": args.scale, "stages": {}}
    started = time.time()
    side = [s for s in STAGES if s in stages and s in SIDE_LANE]
    main_lane = [s for s in STAGES if s in stages and s not in SIDE_LANE]
    if args.serial or args.threads < 2 or not side or not main_lane:
        torch.set_num_threads(args.threads)
        run_lane([s for s in STAGES if s in stages], paths, args.scale, report["stages"])
    else:
        child = start_side_lane(side, args, paths.work)
        try:
            run_lane(main_lane, paths, args.scale, report["stages"], CoreShare(child, args.threads))
        except BaseException:  # the main lane failed or was interrupted: do not leave the child training
            child.terminate()
            child.wait()
            raise
        code = child.wait()
        if code != 0:
            raise SystemExit(
                f"the side lane ({', '.join(side)}) failed with exit code {code}; see {paths.work / 'side_lane.log'}"
            )
        side_report = json.loads((paths.work / "side_lane" / "train_report.json").read_text())
        report["stages"].update(side_report["stages"])
        report["lanes"] = {"main": main_lane, "side": side, "side_seconds": side_report["total_seconds"]}
    report["stages"] = {name: report["stages"][name] for name in STAGES if name in report["stages"]}
    report["total_seconds"] = round(time.time() - started, 1)
    if paths.weights == WEIGHTS.resolve() and args.scale == 1.0 and not args.no_quality:
        from .evaluate import full_report

        report["quality"] = full_report()
    (paths.work / "train_report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({"total_seconds": report["total_seconds"], "report": str(paths.work / "train_report.json")}))
    return report


if __name__ == "__main__":
    main()

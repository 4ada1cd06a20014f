"""Upscale benchmark (prints JSON): input megapixels per second of a small RRDBNet (ESRGAN,
random weights, 4x) run untiled and through nodeflow.imaging.tiles, and the ratio tiled/untiled
measured in the same run. Also the largest difference between the two outputs.

    python bench/upscale.py            # 256x256 input, tiles 128 (overlap 32) and 64 (overlap 16)
    python bench/upscale.py --quick    # 48x48 input, one repeat: a few seconds
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.imaging.tiles import upscale_tiled


def build_model(num_filters: int, num_blocks: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """A random-weight 4x RRDBNet wrapped in a spandrel descriptor, as the node runs it."""
    from spandrel import ModelLoader
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(0)
    net = ESRGAN(num_filters=num_filters, num_blocks=num_blocks, scale=4)
    with torch.no_grad():
        net.model[-1].bias.fill_(0.5)  # outputs mid-range instead of mostly clamped
    return ModelLoader().load_from_state_dict(net.state_dict()).eval()


def measure(runs: dict[str, Callable[[], torch.Tensor]], repeats: int) -> dict[str, tuple[float, torch.Tensor]]:
    """Median seconds of each run over ``repeats`` rounds after one warm-up round, and its last
    output. Rounds interleave the runs so that load from other processes hits all of them alike."""
    outputs = {name: run() for name, run in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), outputs[name]) for name in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny input, one repeat (a few seconds)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: on a shared machine extra threads spin and "
        "make timings swing by 10x; 0 = torch's choice)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    size, repeats, tiles = (48, 1, [(32, 8)]) if args.quick else (256, 3, [(128, 32), (64, 16)])
    model = build_model(num_filters=32, num_blocks=2)
    torch.manual_seed(1)
    image = torch.rand(1, 3, size, size)
    megapixels = size * size / 1e6
    counts: dict[str, int] = {}

    def tiled(name: str, tile: int, overlap: int) -> Callable[[], torch.Tensor]:
        def note(done: int, total: int) -> None:
            counts[name] = total

        return lambda: upscale_tiled(model, image, 4, tile, overlap, progress=note)

    runs = {"untiled": lambda: model(image)}
    runs.update({f"tiled_{t}_overlap_{o}": tiled(f"tiled_{t}_overlap_{o}", t, o) for t, o in tiles})
    with torch.no_grad():
        measured = measure(runs, repeats)
    untiled_s, reference = measured["untiled"]
    results = {"untiled": {"seconds": round(untiled_s, 4), "mpx_per_s": round(megapixels / untiled_s, 5)}}
    for name, (seconds, out) in measured.items():
        if name != "untiled":
            results[name] = {
                "seconds": round(seconds, 4),
                "mpx_per_s": round(megapixels / seconds, 5),
                "tiles": counts[name],
                "ratio_tiled_to_untiled": round(untiled_s / seconds, 3),
                "max_abs_diff": float((out - reference).abs().max()),
            }
    print(
        json.dumps(
            {
                "benchmark": "upscale",
                "quick": args.quick,
                "model": "RRDBNet 32nf 2nb 4x (random weights)",
                "input": f"{size}x{size}",
                "output": f"{size * 4}x{size * 4}",
                "threads": torch.get_num_threads(),
                "repeats": repeats,
                "unit": "input megapixels per second",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

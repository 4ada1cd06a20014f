"""Linear layers of a UNet at small latents, three ways, on this CPU (issue #21): fp32 weights through
oneDNN (NodeFlow's fp32 path), 16-bit weights through NodeFlow's native kernel
(``nodeflow/models/native/half_gemm.cpp``), and 16-bit weights widened into scratch then oneDNN (the
path for many rows). Prints JSON: per shape and row count, ms per layer and the ratios to fp32; what
``half_storage.NATIVE_ROWS`` is chosen from. Shapes are SD1.5/SDXL layers ([out, in], a 3x3 conv as
[out, in x 9]); rows = batch x pixels (2 x 1..64 at a 64x64 image).

    python bench/half_kernels.py [--rows 2 8 32 64 128] [--million-weights 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

SHAPES = [(1280, 1280), (10240, 1280), (1280, 5120), (1280, 11520), (640, 5760), (320, 2880), (2560, 320)]


def per_call(fn, layers, repeats: int = 5) -> float:
    for w in layers:  # warm up
        fn(w)
    start = time.perf_counter()
    for _ in range(repeats):
        for w in layers:
            fn(w)
    return (time.perf_counter() - start) / (repeats * len(layers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2, 8, 32, 64, 128])
    parser.add_argument("--million-weights", type=float, default=100.0, help="per shape (default: out of cache)")
    args = parser.parse_args()
    import torch

    from nodeflow.models.fast_linear import linear
    from nodeflow.models.half_storage import NATIVE_ROWS, widened
    from nodeflow.models.native import half_gemm

    if half_gemm.kernel() is None:
        print(json.dumps({"error": f"no native kernel: {half_gemm.reason()}"}))
        return
    results = []
    for n, k in SHAPES:
        count = max(
            1, int(args.million_weights * 1e6 // (n * k))
        )  # default ~200 MB of 16-bit weights: out of every cache
        halves = [torch.randn(n, k).half() for _ in range(count)]
        fulls = [w.float() for w in halves]
        bias = torch.randn(n)
        for m in args.rows:
            x = torch.randn(m, k)
            fp32 = per_call(lambda w, x=x, bias=bias: linear(x, w, bias), fulls)
            native = per_call(lambda w, x=x, bias=bias: half_gemm.half_linear(x, w, bias), halves)
            wide = per_call(lambda w, x=x, bias=bias: linear(x, widened(w), bias), halves)
            results.append(
                {
                    "out": n,
                    "in": k,
                    "rows": m,
                    "fp32_ms": round(fp32 * 1e3, 3),
                    "native_over_fp32": round(native / fp32, 3),
                    "widened_over_fp32": round(wide / fp32, 3),
                }
            )
    print(
        json.dumps(
            {
                "benchmark": "half_kernels",
                "torch_threads": torch.get_num_threads(),
                "native_rows": NATIVE_ROWS,
                "layers": results,
            }
        )
    )


if __name__ == "__main__":
    main()

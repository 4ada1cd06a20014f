"""SD3 / Flux loading and sampling figures (issue #20), printed as JSON.

1. Load time and peak RSS of an SD3.5-medium transformer file with random weights in the released
   layout (from tests/data/sd35_medium_checkpoint_keys.json.gz), stored fp16 and stored fp8, loaded
   through the UNETLoader path (tensors streamed from the file and cast on arrival; fp8 kept fp8 and
   computed in fp16). Each load runs in a fresh process; the ratio is peak RSS over the file size
   (goal <= 1.2): after the load (big tensors kept as stored are still mapped from the file) and after
   the weights are copied into memory, as a server does when it is first idle (``in_memory``).
   ``--blocks N`` keeps N of the 24 joint blocks (the full size needs ~6 GB free RAM).
2. Seconds per sampling step of the tiny SD3.5 and Flux test models (64x64, euler), against the
   tiny SD1 test model measured in the same run.

    python bench/families.py [--blocks 24] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402 -- run as a script: after the repo root is put on sys.path


def write_transformer(path: Path, dtype: str, blocks: int) -> int:
    """Write the MMDiT of SD3.5 medium (released names, no prefix), tensor by tensor; returns bytes."""
    from safetensors.torch import save_file

    from tests.flow.tiny_flow import _blocks, manifest

    keys = {
        k[len("model.diffusion_model.") :]: v
        for k, v in manifest("sd35_medium_checkpoint_keys")["keys"].items()
        if k.startswith("model.diffusion_model.")
    }
    if blocks < 24:
        keys = _blocks(keys, r"(joint_blocks\.)(\d+)\.", blocks)
    g = torch.Generator().manual_seed(0)
    tensors = {}
    for name, (shape, _) in sorted(keys.items()):
        t = torch.empty(shape, dtype=torch.float16)
        t.normal_(0, 0.02, generator=g)
        if dtype == "fp8" and len(shape) >= 2 and name != "pos_embed":
            t = t.to(torch.float8_e4m3fn)
        tensors[name] = t
    save_file(tensors, str(path))
    return path.stat().st_size


class Fp16Policy:
    """The model manager's dtype policy of a GPU, on the CPU (what the figures are about)."""

    device = torch.device("cpu")

    def dtype(self, kind: str = "unet") -> torch.dtype:
        return torch.float16


def high_water_mark() -> int:
    """Peak RSS of this process in bytes (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load_once(path: Path) -> dict:
    from nodeflow.models.component_files import load_unet_file

    start = time.perf_counter()
    model = load_unet_file(path, Fp16Policy())
    seconds = time.perf_counter() - start
    dtypes = sorted({str(p.dtype) for p in model.unet.module.parameters()})
    peak = high_water_mark()
    # weights kept as stored are mapped from the file until the engine is idle; then copied in (what
    # a server holds from the first idle moment on)
    from nodeflow.models import mapped_weights

    start = time.perf_counter()
    mapped_weights.materialize()
    return {
        "seconds": round(seconds, 2),
        "peak_rss_bytes": peak,
        "materialize_seconds": round(time.perf_counter() - start, 2),
        "peak_rss_in_memory_bytes": high_water_mark(),
        "parameter_dtypes": dtypes,
        "family": model.family.name,
    }


def measure_load(path: Path, size: int) -> dict:
    baseline = subprocess.run(
        [sys.executable, __file__, "--imports"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    imports = int(baseline.stdout.strip().splitlines()[-1])
    out = subprocess.run(
        [sys.executable, __file__, "--load", str(path)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = result["peak_rss_bytes"] - imports  # what loading added over a process with the libraries imported
    held = result["peak_rss_in_memory_bytes"] - imports
    result.update(
        file_bytes=size,
        imports_rss_bytes=imports,
        added_rss_bytes=loaded,
        added_rss_over_file=round(loaded / size, 3),
        added_rss_in_memory_over_file=round(held / size, 3),
    )
    return result


def seconds_per_step(steps: int) -> dict:
    from nodeflow.models.component_files import unet_from_state
    from nodeflow.models.loader import load_checkpoint_state
    from nodeflow.models.text_towers import clip_from_files
    from nodeflow.nodes.sampling_nodes import KSampler
    from tests.flow.tiny_flow import flux_state, sd35_medium_state, text_encoder_state
    from tests.sd.tiny import tiny_sd1_modules

    def timed(model, cond, channels):
        node = KSampler()
        node.ctx = None
        latent = {"samples": torch.zeros(1, channels, 8, 8)}
        node.run(model, 0, 1, 1.0, "euler", "simple", cond, cond, latent, 1.0)  # warm-up
        start = time.perf_counter()
        node.run(model, 0, steps, 1.0, "euler", "simple", cond, cond, latent, 1.0)
        return (time.perf_counter() - start) / steps

    sd3, _, _ = load_checkpoint_state(sd35_medium_state(), "tiny sd3", output_vae=False, output_clip=False)
    sd3_clip = clip_from_files([(k, text_encoder_state(k)) for k in ("clip_l", "clip_g", "t5xxl")], "sd3")
    c, p = sd3_clip.encode_towers({"clip_l": "a star", "clip_g": "a star", "t5xxl": "a star"})
    out = {"sd35_tiny": timed(sd3, [[c, {"pooled_output": p}]], 16)}
    flux = unet_from_state(flux_state())
    flux_clip = clip_from_files([(k, text_encoder_state(k)) for k in ("clip_l", "t5xxl")], "flux")
    c, p = flux_clip.encode_towers({"clip_l": "a star", "t5xxl": "a star"})
    out["flux_tiny"] = timed(flux, [[c, {"pooled_output": p, "guidance": 3.5}]], 16)
    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.patching import PatchedModule

    unet, _, _ = tiny_sd1_modules()
    sd1 = DiffusionModel(PatchedModule(unet), "sd1")
    out["sd1_tiny_baseline"] = timed(sd1, [[torch.zeros(1, 77, 32), {}]], 4)
    return {k: round(v, 4) for k, v in out.items()} | {
        "sd35_over_sd1": round(out["sd35_tiny"] / out["sd1_tiny_baseline"], 2),
        "flux_over_sd1": round(out["flux_tiny"] / out["sd1_tiny_baseline"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=24)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--load", type=Path)
    parser.add_argument("--imports", action="store_true")
    args = parser.parse_args()
    if args.imports:  # the baseline: a process with the libraries a load imports
        import diffusers  # noqa: F401 -- imported for its memory footprint (the baseline)
        from diffusers import SD3Transformer2DModel  # noqa: F401 -- imported for its memory footprint

        import nodeflow.models.component_files
        import nodeflow.models.families_flow  # noqa: F401 -- imported for its memory footprint

        print(high_water_mark())
        return
    if args.load is not None:
        print(json.dumps(load_once(args.load)))
        return
    report = {"blocks": args.blocks}
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("fp16", "fp8"):
            path = Path(tmp) / f"sd35_medium_transformer_{dtype}.safetensors"
            size = write_transformer(path, dtype, args.blocks)
            report[f"load_{dtype}"] = measure_load(path, size)
            path.unlink()
    report["seconds_per_step"] = seconds_per_step(args.steps)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

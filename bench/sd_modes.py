"""Opt-in fast modes of a checkpoint's diffusion model: speed and difference to the exact result.

For each mode (fp32 default; bf16 UNet; fp16 UNet; dynamic int8 linear layers; channels_last;
torch.compile with inductor) the same seeded KSampler sampling (64x64 -> 8x8 latents, euler/normal,
CFG 7, the conditioning from the fp32 text encoder, so only the UNet differs) is timed interleaved
with the default mode (default run, mode run, default run, ...: machine drift hits both), and the
final latent is compared with the default's. Only the default model and one mode's model are held at
a time (a full-size SDXL UNet is 10 GB in fp32).

    python bench/sd_modes.py --checkpoint PATH [--steps 6] [--repeats 3]

prints ``fast_modes(...)`` as JSON: per mode ``s_per_step`` (median of repeats), ``ratio`` (to the
default's median measured against it), ``max_abs``/``mean_abs`` (final latent vs the default's),
``first_run_s`` (the untimed first run: torch.compile's compile time is in it) and the UNet weight dtype.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodeflow.models.compiled import use_compile_cache  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.models.fast_modes import int8_quantizer  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.models.loader import load_checkpoint  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.models.manager import ModelManager  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.sampling.run import SampleRequest, ksampler_sigmas, sample_with_sigmas  # noqa: E402 -- run as a script: after the repo root is put on sys.path

CFG = 7.0
SEED = 0
# mode -> ModelManager keyword arguments (None: the default model, run through torch.compile)
MODES: dict[str, dict | None] = {
    "bf16_unet": {"dtypes": {"unet": torch.bfloat16}},
    "fp16_unet": {"dtypes": {"unet": torch.float16}},
    "int8_linear": {"int8_linear": True},
    "channels_last": {"channels_last": True},
    "torch_compile": None,
}


def load_unet(checkpoint: Path, **manager_kwargs):
    """The checkpoint's MODEL alone, loaded as ``ModelManager(**manager_kwargs)`` would."""
    manager = ModelManager(cpu=True, **manager_kwargs)
    model, _, _ = load_checkpoint(checkpoint, manager, output_vae=False, output_clip=False)
    manager.prepare(model.unet.module, "unet")  # a no-op where the loader already prepared it
    return model


def conditioning(checkpoint: Path) -> tuple[list, list]:
    _, clip, _ = load_checkpoint(checkpoint, ModelManager(cpu=True), output_vae=False)
    with torch.no_grad():
        return [[clip.encode("a red star")[0], {}]], [[clip.encode("blurry")[0], {}]]


def sampler(positive: list, negative: list, steps: int):
    def sample(model) -> tuple[float, torch.Tensor]:
        """Seconds per step and the final latent of one seeded sampling run."""
        sigmas = ksampler_sigmas(model, "normal", steps)
        latent = {"samples": torch.zeros(1, 4, 8, 8)}
        start = time.perf_counter()
        with torch.no_grad():
            out = sample_with_sigmas(SampleRequest(model, positive, negative, latent, SEED, CFG), sigmas)
        return (time.perf_counter() - start) / steps, out["samples"]

    return sample


def measure(sample, default, model, repeats: int) -> dict:
    start = time.perf_counter()
    _, latent = sample(model)  # untimed: warms caches (and compiles)
    first = time.perf_counter() - start
    _, exact = sample(default)
    mine, base = [], []
    for _ in range(repeats):
        base.append(sample(default)[0])
        seconds, latent = sample(model)
        mine.append(seconds)
    diff = (latent.float() - exact.float()).abs()
    return {
        "latent_max_abs": float(exact.abs().max()),  # the scale the differences are of
        "s_per_step": statistics.median(mine),
        "default_s_per_step": statistics.median(base),
        "ratio": statistics.median(mine) / statistics.median(base),
        "max_abs": float(diff.max()),
        "mean_abs": float(diff.mean()),
        "finite": bool(torch.isfinite(latent).all()),
        "first_run_s": first,
        "unet_dtype": str(model.dtype).removeprefix("torch."),
    }


def fast_modes(checkpoint: Path, steps: int = 6, repeats: int = 3, modes: list[str] | None = None) -> dict:
    """Every fast mode of ``checkpoint``'s diffusion model (or those named in ``modes``) measured against
    the fp32 default (see the module docstring). A mode this machine cannot run reports
    ``{"skipped": reason}``, one that fails ``{"error": message}``."""
    unknown = set(modes or ()) - set(MODES)
    if unknown:
        raise ValueError(f"unknown fast modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    checkpoint = Path(checkpoint)
    sample = sampler(*conditioning(checkpoint), steps)
    default = load_unet(checkpoint)
    results: dict = {"default": {"unet_dtype": "float32"}}
    for name, kwargs in MODES.items():
        if modes is not None and name not in modes:
            continue
        if name == "int8_linear" and int8_quantizer() is None:
            results[name] = {"skipped": f"torch {torch.__version__} has no torch.ao.quantization.quantize_dynamic"}
            continue
        if kwargs is None:
            use_compile_cache(ROOT / "user")  # NodeFlow's default base directory: kernels survive runs
            model = default.clone()
            model.compiled = default.manager.compiled(default.unet.module, "inductor")
        else:
            model = load_unet(checkpoint, **kwargs)
        try:
            results[name] = measure(sample, default, model, repeats)
        except Exception as exc:  # one mode failing (no C++ compiler, no kernel for a dtype) is reported
            results[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        del model
    measured = [r["default_s_per_step"] for r in results.values() if "default_s_per_step" in r]
    results["default"]["s_per_step"] = statistics.median(measured) if measured else None
    results["machine"] = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}
    return results


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--checkpoint", type=Path, required=True, help="a single-file SD checkpoint")
    cli.add_argument("--steps", type=int, default=6)
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--modes", nargs="*", default=None, choices=list(MODES), help="only these modes (default: all)")
    args = cli.parse_args()
    if not args.checkpoint.is_file():
        cli.error(f"--checkpoint {args.checkpoint}: no such file")
    print(json.dumps(fast_modes(args.checkpoint, args.steps, args.repeats, args.modes), indent=2))


if __name__ == "__main__":
    main()

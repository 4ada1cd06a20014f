"""bench/sd_modes.py on the tiny SD1 checkpoint (2 steps, 1 repeat): every mode reports its speed
against the default and its difference to the default's latent; the script prints the same as JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.sd_modes import MODES, fast_modes
from nodeflow.models import compiled

ROOT = Path(__file__).resolve().parents[2]
EAGER = [name for name in MODES if name != "torch_compile"]


def check(entry: dict, dtype: str) -> None:
    assert entry["finite"] and entry["unet_dtype"] == dtype
    assert entry["s_per_step"] > 0 and entry["default_s_per_step"] > 0
    assert entry["ratio"] == pytest.approx(entry["s_per_step"] / entry["default_s_per_step"])
    assert 0 <= entry["mean_abs"] <= entry["max_abs"] < entry["latent_max_abs"]


def test_one_mode_against_the_default(tiny_ckpt_file):
    results = fast_modes(tiny_ckpt_file, steps=2, repeats=1, modes=["fp16_unet"])
    assert set(results) == {"default", "machine", "fp16_unet"}
    check(results["fp16_unet"], "float16")
    assert results["default"]["s_per_step"] == results["fp16_unet"]["default_s_per_step"]
    with pytest.raises(ValueError, match="unknown fast modes"):
        fast_modes(tiny_ckpt_file, modes=["fp8"])


@pytest.mark.slow  # 4 models loaded and sampled against the default: ~40 s of CPU on 2 cores
def test_eager_modes_on_a_tiny_checkpoint(tiny_ckpt_file):
    results = fast_modes(tiny_ckpt_file, steps=2, repeats=1, modes=EAGER)
    assert set(results) == {"default", "machine", *EAGER}
    assert results["default"]["s_per_step"] > 0
    check(results["bf16_unet"], "bfloat16")
    check(results["fp16_unet"], "float16")
    check(results["channels_last"], "float32")
    assert results["channels_last"]["max_abs"] < 1e-3 * results["channels_last"]["latent_max_abs"]
    if "skipped" not in results["int8_linear"]:  # torch without quantize_dynamic: reported as skipped
        check(results["int8_linear"], "float32")
        assert results["int8_linear"]["max_abs"] > 0  # int8 is not exact


@pytest.mark.slow  # a Python process importing torch, diffusers and transformers: ~20-40 s
def test_script_prints_json(tiny_ckpt_file):
    script = [sys.executable, str(ROOT / "bench" / "sd_modes.py"), "--checkpoint", str(tiny_ckpt_file)]
    out = subprocess.run(
        [*script, "--steps", "1", "--repeats", "1", "--modes", "channels_last"],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    results = json.loads(out.stdout)
    assert set(results) == {"default", "machine", "channels_last"} and results["channels_last"]["finite"]


@pytest.mark.slow  # inductor compiles the tiny UNet: 1-4 min of CPU on 2 cores (seconds if already compiled)
@pytest.mark.timeout(900)
def test_torch_compile_mode(tiny_ckpt_file, tmp_path, monkeypatch):
    monkeypatch.setattr(compiled, "USER_CACHE_DIR", str(tmp_path / "inductor"))  # not the repo's user/
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path / "inductor"))
    results = fast_modes(tiny_ckpt_file, steps=2, repeats=1, modes=["torch_compile"])
    check(results["torch_compile"], "float32")
    assert results["torch_compile"]["max_abs"] < 1e-3 * results["torch_compile"]["latent_max_abs"]
    assert results["torch_compile"]["first_run_s"] > 0
    assert torch.backends.cpu.get_cpu_capability() == results["machine"]["cpu_capability"]

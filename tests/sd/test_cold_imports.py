"""A fresh process that loads an SD checkpoint and makes an image imports neither diffusers nor
transformers: NodeFlow's own networks (``nodeflow/models/nets``) carry the SD families, and those
libraries take seconds to import (the cold-start budget of the speed issue). Also for SDXL-layout files
(two text towers, text_time embedding)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.sd_prompts import txt2img

from .tiny import write_tiny_family, write_tiny_sd1

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("diffusers", "transformers", "scipy", "torch._dynamo")

CHILD = """
import json, sys, threading
from pathlib import Path
from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import Folders
from nodeflow.models.manager import ModelManager
from nodeflow.schema.registry import builtin_registry

env = Folders(Path(sys.argv[1]))
env.ensure()
prompt = json.loads(sys.argv[2])
engine = Engine(builtin_registry(), env, models=ModelManager(cpu=True))
result = engine.execute(Job("cold", prompt, ["7"]), lambda *a: None, threading.Event())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("diffusers", "transformers", "scipy")
               or m.startswith("torch._dynamo"))
print(json.dumps({"status": result.status, "error": str(result.error), "heavy": heavy[:20]}))
"""


@pytest.mark.parametrize("family", ["sd1", "sd2", "sdxl_refiner"])
def test_a_cold_sd_run_imports_neither_diffusers_nor_transformers(tmp_path, family):
    base = tmp_path / "base"
    target = base / "models" / "checkpoints" / "tiny.safetensors"
    if family == "sd1":
        write_tiny_sd1(target)
    else:
        write_tiny_family(target, family)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(base), json.dumps(txt2img(steps=2, cfg=7.0, save="PreviewImage"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["status"] == "success", report["error"]
    assert report["heavy"] == [], f"the cold path imported {report['heavy']} (each costs seconds of a cold start)"

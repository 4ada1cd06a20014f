"""First-run benchmark: the editor's default workflow (web/default_workflow.json: expand prompt ->
encode -> sample 64x64 -> decode -> 4x GAN upscale -> save 256x256) on the bundled demo pack,
through the backend converter and the engine, on the CPU. Cold = model loads + first picture;
warm = a new seed (models cached). The baseline measured in the same run is the sampler alone
(the KSampler node's share of a warm run), so the ratio says how much the rest of the pipeline
costs. Target (issue #7): a picture in about 10 s or less.

    python bench/demo_first_run.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodeflow.engine.job import Job  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.runtime import build_runtime  # noqa: E402 -- run as a script: after the repo root is put on sys.path
from nodeflow.workflow.convert import to_api  # noqa: E402 -- run as a script: after the repo root is put on sys.path


def default_prompt(object_info: dict, seed: int) -> tuple[dict, str, str]:
    workflow = json.loads((ROOT / "web" / "default_workflow.json").read_text())
    prompt, _ = to_api(workflow, object_info)
    sampler = next(k for k, v in prompt.items() if v["class_type"] == "KSampler")
    save = next(k for k, v in prompt.items() if v["class_type"] == "SaveImage")
    prompt[sampler]["inputs"]["seed"] = seed
    return prompt, sampler, save


def run(runtime, seed: int) -> tuple[float, float]:
    """(seconds for the whole workflow, seconds spent in the sampler node)."""
    prompt, sampler, save = default_prompt(runtime.registry.object_info(runtime.env), seed)
    marks: dict[str, float] = {}

    def emit(event: str, data: dict) -> None:
        if event != "executing":
            return
        if str(data.get("node")) == sampler:
            marks["sampler"] = time.perf_counter()
        elif "sampler" in marks:
            marks.setdefault("sampler_end", time.perf_counter())

    start = time.perf_counter()
    result = runtime.engine.execute(Job(f"bench{seed}", prompt, [save]), emit, threading.Event())
    total = time.perf_counter() - start
    if result.status != "success":
        raise RuntimeError(result.error)
    return total, marks["sampler_end"] - marks["sampler"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(tmp, cpu=True, custom_nodes=False)
        cold, _ = run(runtime, 0)
        warm = [run(runtime, seed) for seed in range(1, args.repeats + 1)]
        outputs = sorted((Path(tmp) / "output").glob("*.png"))
    warm_s = statistics.median(w for w, _ in warm)
    sampler_s = statistics.median(s for _, s in warm)
    print(
        json.dumps(
            {
                "benchmark": "default_workflow_expand_sample64_upscale256",
                "cold_s": round(cold, 2),
                "warm_s": round(warm_s, 3),
                "sampler_s": round(sampler_s, 3),
                "warm_over_sampler": round(warm_s / sampler_s, 2),
                "target_s": 10.0,
                "warm_runs_s": [round(w, 3) for w, _ in warm],
                "images": len(outputs),
            }
        )
    )


if __name__ == "__main__":
    main()

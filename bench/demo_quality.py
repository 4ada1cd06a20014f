"""Demo pack quality report (prints JSON): text-to-image colour/shape accuracy judged on held-out
prompts, prompt-expander validity, upscaler PSNR gain over bicubic, and the judge's own accuracy
on real renders (so its verdicts can be trusted). Bars: colour >= 0.90, shape >= 0.70,
expander >= 0.95, upscaler >= +2 dB.

    python bench/demo_quality.py [--count 100]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nodeflow.demo import evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    from nodeflow.demo.judge import accuracy, load_judge
    report = {"judge_on_real_renders": accuracy(load_judge(evaluate.WEIGHTS / "judge.safetensors"), evaluate.HELD_OUT_SEED, 500)}
    parts = {"text_to_image": lambda: evaluate.evaluate(count=args.count),
             "inpainting": lambda: evaluate.inpaint_quality(),
             "prompt_expander": lambda: evaluate.expander_quality(),
             "upscaler": lambda: evaluate.upscaler_quality()}
    for name, run in parts.items():
        try:
            report[name] = run()
        except (FileNotFoundError, ValueError, OSError) as exc:
            report[name] = {"missing": str(exc)[:200]}
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Demo pack quality report (prints JSON): text-to-image colour/shape accuracy judged on held-out
prompts, inpainting colour rate, prompt-expander validity, upscaler PSNR gain over bicubic, and the
judge's own accuracy on real renders (so its verdicts can be trusted). Bars: colour >= 0.90,
shape >= 0.70, inpainting >= 0.85, expander >= 0.95, upscaler >= +2 dB.

    python bench/demo_quality.py [--count 100]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nodeflow.demo.evaluate import full_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(full_report(args.count)))


if __name__ == "__main__":
    main()

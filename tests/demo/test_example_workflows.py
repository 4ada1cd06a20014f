"""The example workflows shipped beside the editor's default one run headless on the demo pack."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.slow  # runs every example workflow on the demo pack

ROOT = Path(__file__).resolve().parents[2]


def test_outpainting_example_runs_on_the_demo_pack(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nodeflow",
            "run",
            str(ROOT / "web" / "examples" / "outpaint_demo.json"),
            "--output",
            str(out),
            "--base-directory",
            str(tmp_path),
            "--disable-custom-nodes",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    paths = [Path(line) for line in result.stdout.split()]
    assert len(paths) == 1
    with Image.open(paths[0]) as img:
        assert img.size == (96, 64)  # 64x64 padded by 32 on the right and filled

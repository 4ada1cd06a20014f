"""python -m nodeflow convert / run on a ComfyUI file with subgraphs (two instances, nested)."""

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.cli import ROOT, nodeflow

pytestmark = pytest.mark.slow  # several CLI processes, each loading every node module

FILE = ROOT / "tests" / "data" / "workflows" / "subgraphs_comfy.json"


def test_convert_and_run_flatten_subgraphs(tmp_path):
    result = nodeflow(
        "convert", FILE, tmp_path / "api.json", "--to", "api", "--base-directory", tmp_path, "--disable-custom-nodes"
    )
    assert result.returncode == 0, result.stderr
    api = json.loads((tmp_path / "api.json").read_text())
    assert api["11"]["inputs"]["images"] == ["10:2", 0] and api["14:1:2"]["class_type"] == "ImageScaleBy"
    result = nodeflow("run", FILE, "--output", tmp_path / "out", "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 0, result.stderr
    saved = [Path(p) for p in result.stdout.split() if Path(p).name.startswith("sub_")]
    with Image.open(saved[0]) as img:  # EmptyImage 64x64, inverted, scaled by the instance's 2.0
        assert img.size == (128, 128) and img.getpixel((0, 0)) == (255, 255, 255)

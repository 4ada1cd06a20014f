"""python -m nodeflow run / validate as a user types them."""

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.cli import ROOT, nodeflow

PROMPT = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 16, "height": 8, "batch_size": 2, "color": 0xFF0000}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "cli"}},
}


def test_run_writes_outputs_and_prints_their_paths(tmp_path):
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(PROMPT))
    out = tmp_path / "out"
    result = nodeflow("run", wf, "--output", out, "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.split()]
    assert [p.name for p in paths] == ["cli_00001_.png", "cli_00002_.png"]
    with Image.open(paths[0]) as img:
        assert img.size == (16, 8) and img.getpixel((0, 0)) == (0, 255, 255)
        assert json.loads(img.text["prompt"]) == PROMPT


@pytest.mark.slow  # several CLI processes, each loading every node module
def test_validate_reports_errors_and_exit_codes(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(PROMPT))
    result = nodeflow("validate", good, "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 0 and result.stdout.startswith("ok:")
    bad = dict(PROMPT)
    bad["1"] = {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 8, "batch_size": 1, "color": 0}}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = nodeflow("validate", tmp_path / "bad.json", "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 1
    assert "node 1 (EmptyImage): value_smaller_than_min" in result.stderr
    (tmp_path / "broken.json").write_text("{not json")
    result = nodeflow("validate", tmp_path / "broken.json", "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 2 and "not valid JSON (line 1" in result.stderr
    result = nodeflow("run", tmp_path / "missing.json", "--base-directory", tmp_path)
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.slow  # several CLI processes, each loading every node module
def test_convert_and_run_accept_editor_workflows(tmp_path):
    editor = json.loads((ROOT / "tests" / "data" / "workflows" / "default.json").read_text())
    (tmp_path / "editor.json").write_text(json.dumps(editor))
    result = nodeflow(
        "convert",
        tmp_path / "editor.json",
        tmp_path / "nf.json",
        "--to",
        "nodeflow",
        "--base-directory",
        tmp_path,
        "--disable-custom-nodes",
    )
    assert result.returncode == 0, result.stderr
    converted = json.loads((tmp_path / "nf.json").read_text())
    assert converted["format"] == "nodeflow-workflow" and len(converted["nodes"]) == 7  # unknown types are kept
    # an editor workflow of built-in image nodes runs headless directly
    image_editor = {
        "version": 0.4,
        "links": [[1, 1, 0, 2, 0, "IMAGE"]],
        "nodes": [
            {
                "id": 1,
                "type": "EmptyImage",
                "mode": 0,
                "inputs": [],
                "outputs": [{"name": "IMAGE", "links": [1]}],
                "widgets_values": [8, 8, 1, 0],
            },
            {
                "id": 2,
                "type": "SaveImage",
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": 1}],
                "outputs": [],
                "widgets_values": ["ed"],
            },
        ],
    }
    (tmp_path / "img.json").write_text(json.dumps(image_editor))
    result = nodeflow("run", tmp_path / "img.json", "--base-directory", tmp_path, "--disable-custom-nodes")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.split()[0]).name == "ed_00001_.png"
    result = nodeflow(
        "convert",
        tmp_path / "img.json",
        tmp_path / "api.json",
        "--to",
        "api",
        "--base-directory",
        tmp_path,
        "--disable-custom-nodes",
    )
    api = json.loads((tmp_path / "api.json").read_text())
    assert api["2"]["inputs"] == {"images": ["1", 0], "filename_prefix": "ed"}
    result = nodeflow("convert", tmp_path / "api.json", tmp_path / "x.json", "--to", "xml")
    assert result.returncode == 2

"""PrimitiveNode, Reroute, bypass and mute, unknown nodes, malformed files, API import layout."""

import json
from pathlib import Path

import pytest

from nodeflow.workflow.convert import WorkflowError, detect_format, to_api, to_comfyui, to_nodeflow
from tests.helpers.editor_workflows import OBJECT_INFO, image_chain, node


def test_primitive_values_and_reroutes():
    prompt, _ = to_api(image_chain(), OBJECT_INFO)
    assert set(prompt) == {"1", "2", "4", "5"}  # Reroute and PrimitiveNode are editor-only
    assert prompt["4"]["inputs"] == {"image": ["2", 0], "upscale_method": "bicubic", "scale_by": 2.5}
    assert prompt["1"]["inputs"] == {"width": 64, "height": 32, "batch_size": 1, "color": 255}


def test_bypassed_node_passes_its_input_through():
    prompt, _ = to_api(image_chain(mode_of_invert=4), OBJECT_INFO)
    assert "2" not in prompt and prompt["4"]["inputs"]["image"] == ["1", 0]


def test_muted_node_is_dropped_and_its_consumer_reported():
    prompt, warnings = to_api(image_chain(mode_of_invert=2), OBJECT_INFO)
    assert "2" not in prompt and "image" not in prompt["4"]["inputs"]
    assert any(w["node"] == "4" and "muted" in w["message"] for w in warnings)


def test_link_objects_of_the_1x_format():
    wf = image_chain()
    wf["links"] = [
        dict(zip(("id", "origin_id", "origin_slot", "target_id", "target_slot", "type"), link, strict=False))
        for link in wf["links"]
    ]
    wf["version"] = 1
    assert to_api(wf, OBJECT_INFO)[0] == to_api(image_chain(), OBJECT_INFO)[0]


def test_unknown_nodes_are_warnings_and_the_rest_loads():
    wf = image_chain()
    wf["nodes"].append(node(7, "FancyPluginNode", widgets=[1, 2]))
    workflow, warnings = to_nodeflow(wf, OBJECT_INFO)
    assert any(n["type"] == "FancyPluginNode" for n in workflow["nodes"])
    assert any("FancyPluginNode" in w["message"] and "install" in w["message"] for w in warnings)
    prompt, warnings = to_api(wf, OBJECT_INFO)
    assert "7" not in prompt and set(prompt) == {"1", "2", "4", "5"}


def test_api_prompt_import_lays_out_columns():
    prompt, _ = to_api(image_chain(), OBJECT_INFO)
    workflow, _ = to_nodeflow(prompt, OBJECT_INFO)
    x = {n["id"]: n["pos"][0] for n in workflow["nodes"]}
    assert x["1"] < x["2"] < x["4"] < x["5"]
    again, _ = to_api(workflow, OBJECT_INFO)
    assert {k: v["inputs"] for k, v in again.items()} == {k: v["inputs"] for k, v in prompt.items()}


def test_export_writes_seed_control_values():
    wf, _ = to_nodeflow(
        json.loads((Path(__file__).resolve().parents[1] / "data" / "workflows" / "image2image.json").read_text()),
        OBJECT_INFO,
    )
    comfy, _ = to_comfyui(wf, OBJECT_INFO)
    sampler = next(n for n in comfy["nodes"] if n["type"] == "KSampler")
    assert sampler["widgets_values"][:3] == [280823642470253, "randomize", 20]


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "text",
        {"nodes": "x", "links": []},
        {"nodes": [{"id": 1}], "links": []},
        {"nodes": [], "links": [[1, 2]]},
        {"format": "nodeflow-workflow", "version": 99},
        {"1": {"class_type": "ImageInvert", "inputs": {"image": ["9", 0]}}},
    ],
)
def test_malformed_files_raise_workflow_error(bad):
    with pytest.raises(WorkflowError) as err:
        to_api(bad, OBJECT_INFO) if not (isinstance(bad, dict) and "1" in bad) else to_nodeflow(bad, OBJECT_INFO)
    assert str(err.value)


def test_detect_format():
    assert detect_format(image_chain()) == "comfyui"
    assert detect_format(to_nodeflow(image_chain(), OBJECT_INFO)[0]) == "nodeflow"
    assert detect_format(to_api(image_chain(), OBJECT_INFO)[0]) == "api"


def test_missing_model_files_are_reported_not_fatal():
    wf = json.loads((Path(__file__).resolve().parents[1] / "data" / "workflows" / "default.json").read_text())
    workflow, warnings = to_nodeflow(wf, OBJECT_INFO)
    assert len(workflow["nodes"]) == 7
    missing = [w for w in warnings if "not available here" in w["message"]]
    assert [w["node"] for w in missing] == ["4"]
    assert "v1-5-pruned-emaonly-fp16.safetensors" in missing[0]["message"]

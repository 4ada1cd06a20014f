"""Subgraphs: ComfyUI's definitions.subgraphs in and out losslessly, the NodeFlow format v2, and
flattening to API prompts with ComfyUI's ids ("outer:inner", nested "a:b:c")."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from nodeflow.workflow import model
from nodeflow.workflow.convert import to_api, to_comfyui, to_nodeflow
from nodeflow.workflow.errors import WorkflowError
from nodeflow.workflow.model import SCHEMA

ROOT = Path(__file__).resolve().parents[2]
OBJECT_INFO = json.loads((ROOT / "tests" / "data" / "core_nodes_object_info.json").read_text())
A, B = "a1b2c3d4-0000-4000-8000-00000000000a", "b1b2c3d4-0000-4000-8000-00000000000b"


def comfy_file():
    return json.loads((ROOT / "tests" / "data" / "workflows" / "subgraphs_comfy.json").read_text())


def test_import_keeps_definitions_instances_and_promoted_widgets():
    workflow, warnings = to_nodeflow(comfy_file(), OBJECT_INFO)
    assert warnings == []
    jsonschema.validate(workflow, SCHEMA)
    defs = {d["id"]: d for d in workflow["subgraphs"]}
    assert set(defs) == {A, B}
    assert [s["name"] for s in defs[A]["inputs"]] == ["image", "scale_by"]
    assert defs[A]["description"] == "inverts an image, then scales it"
    links = {(tuple(k["from"]), tuple(k["to"])) for k in defs[A]["links"]}
    assert (("@in", 0), ("1", "image")) in links and (("@in", 1), ("2", "scale_by")) in links
    assert (("2", 0), ("@out", "IMAGE")) in links
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert nodes["10"]["type"] == A and nodes["12"]["type"] == A  # two instances of one subgraph
    assert nodes["10"]["widgets"] == {"scale_by": 2.0} and nodes["12"]["widgets"] == {"scale_by": 0.5}
    assert nodes["10"]["promoted"] == [
        {"node": "-1", "widget": "scale_by"},
        {"node": "2", "widget": "upscale_method", "value": "nearest-exact"},
    ]
    inner_instance = next(n for n in defs[B]["nodes"] if n["type"] == A)  # nested
    assert inner_instance["widgets"] == {"scale_by": 0.5}


def test_round_trip_is_lossless():
    original = comfy_file()
    first, _ = to_nodeflow(original, OBJECT_INFO)
    exported, warnings = to_comfyui(first, OBJECT_INFO)
    assert warnings == []
    second, _ = to_nodeflow(json.loads(json.dumps(exported)), OBJECT_INFO)
    assert second == first
    # what ComfyUI reads back: the same definitions, slots, io links, promoted widgets and values
    out_defs = {d["id"]: d for d in exported["definitions"]["subgraphs"]}
    for raw in original["definitions"]["subgraphs"]:
        out = out_defs[raw["id"]]
        assert out["name"] == raw["name"] and out["version"] == 1
        for side in ("inputs", "outputs"):
            assert [(s["id"], s["name"], s["type"]) for s in out[side]] == [
                (s["id"], s["name"], s["type"]) for s in raw[side]
            ]
            assert [len(s["linkIds"]) for s in out[side]] == [len(s["linkIds"]) for s in raw[side]]
        assert out["inputNode"] == raw["inputNode"] and out["outputNode"] == raw["outputNode"]

        def ends(links):
            return sorted((k["origin_id"], k["origin_slot"], k["target_id"], k["target_slot"]) for k in links)

        assert ends(out["links"]) == ends(raw["links"])
        assert {n["id"]: n.get("widgets_values") or [] for n in out["nodes"]} == {
            n["id"]: n.get("widgets_values") or [] for n in raw["nodes"]
        }
    by_id = {n["id"]: n for n in exported["nodes"]}
    assert by_id[10]["type"] == A and by_id[10]["widgets_values"] == [2.0, "nearest-exact"]
    assert by_id[10]["properties"]["proxyWidgets"] == [["-1", "scale_by"], ["2", "upscale_method"]]
    assert by_id[12]["widgets_values"] == [0.5] and "proxyWidgets" not in by_id[12]["properties"]
    assert [i.get("widget") for i in by_id[12]["inputs"]] == [None, {"name": "scale_by"}]
    assert sorted(tuple(k[1:5]) for k in exported["links"]) == sorted(tuple(k[1:5]) for k in original["links"])


def test_flattened_prompt_uses_comfyui_ids():
    prompt, warnings = to_api(comfy_file(), OBJECT_INFO)
    assert warnings == []
    assert sorted(prompt) == sorted(["1", "10:1", "10:2", "11", "12:1", "12:2", "13", "14:1:1", "14:1:2", "14:2", "15"])
    assert prompt["10:1"]["inputs"] == {"image": ["1", 0]}
    assert prompt["10:2"]["inputs"] == {"image": ["10:1", 0], "upscale_method": "nearest-exact", "scale_by": 2.0}
    assert prompt["12:2"]["inputs"] == {"image": ["12:1", 0], "upscale_method": "bilinear", "scale_by": 0.5}
    assert prompt["11"]["inputs"]["images"] == ["10:2", 0] and prompt["13"]["inputs"]["images"] == ["12:2", 0]
    assert prompt["14:1:1"]["inputs"] == {"image": ["1", 0]}
    assert prompt["14:2"]["inputs"] == {"image": ["14:1:2", 0]} and prompt["15"]["inputs"]["images"] == ["14:2", 0]
    nodeflow, _ = to_nodeflow(comfy_file(), OBJECT_INFO)
    assert to_api(nodeflow, OBJECT_INFO)[0] == prompt  # the same from the NodeFlow form


def test_nested_definitions_inside_a_definition_are_read():
    data = comfy_file()
    outer = data["definitions"]["subgraphs"][1]
    outer["definitions"] = {"subgraphs": [data["definitions"]["subgraphs"].pop(0)]}
    prompt, _ = to_api(data, OBJECT_INFO)
    assert prompt["14:1:2"]["inputs"]["scale_by"] == 0.5 and prompt["10:2"]["inputs"]["scale_by"] == 2.0


def test_muted_and_bypassed_instances():
    workflow, _ = to_nodeflow(comfy_file(), OBJECT_INFO)
    nodes = {n["id"]: n for n in workflow["nodes"]}
    nodes["12"]["mode"] = "muted"
    nodes["10"]["mode"] = "bypassed"
    prompt, warnings = to_api(workflow, OBJECT_INFO)
    assert not any(k.startswith("12:") for k in prompt) and "images" not in prompt["13"]["inputs"]
    assert any("muted" in w["message"] for w in warnings if w["node"] == "13")
    assert prompt["11"]["inputs"]["images"] == ["1", 0]  # bypassed: the image passes through


def test_pass_through_and_unlinked_outputs():
    workflow = {
        "format": "nodeflow-workflow",
        "version": 2,
        "subgraphs": [
            {
                "id": "s",
                "name": "wire",
                "inputs": [{"name": "image", "type": "IMAGE"}],
                "outputs": [{"name": "same", "type": "IMAGE"}, {"name": "none", "type": "IMAGE"}],
                "nodes": [],
                "links": [{"id": 1, "from": ["@in", 0], "to": ["@out", "same"]}],
            }
        ],
        "nodes": [
            {"id": "1", "type": "EmptyImage"},
            {"id": "2", "type": "s"},
            {"id": "3", "type": "PreviewImage"},
            {"id": "4", "type": "PreviewImage"},
        ],
        "links": [
            {"id": 1, "from": ["1", 0], "to": ["2", "image"]},
            {"id": 2, "from": ["2", 0], "to": ["3", "images"]},
            {"id": 3, "from": ["2", 1], "to": ["4", "images"]},
        ],
    }
    prompt, _ = to_api(workflow, OBJECT_INFO)
    assert prompt["3"]["inputs"]["images"] == ["1", 0] and "images" not in prompt["4"]["inputs"]


def test_version_1_files_migrate_and_bad_subgraphs_are_named():
    v1 = {"format": "nodeflow-workflow", "version": 1, "nodes": [], "links": []}
    assert model.check(copy.deepcopy(v1))["subgraphs"] == [] and model.check(v1)["version"] == 2
    loop = {
        "format": "nodeflow-workflow",
        "version": 2,
        "links": [],
        "nodes": [{"id": "1", "type": "s"}],
        "subgraphs": [
            {"id": "s", "name": "Loop", "inputs": [], "outputs": [], "links": [], "nodes": [{"id": "1", "type": "s"}]}
        ],
    }
    with pytest.raises(WorkflowError, match="'Loop' contains itself"):
        to_api(loop, OBJECT_INFO)
    bad = copy.deepcopy(loop)
    bad["subgraphs"][0]["links"] = [{"id": 1, "from": ["1", 0], "to": ["@out", "missing"]}]
    with pytest.raises(WorkflowError, match="subgraph output 'missing'"):
        model.check(bad)
    bad["subgraphs"][0]["links"] = [{"id": 1, "from": ["@in", 3], "to": ["1", "x"]}]
    with pytest.raises(WorkflowError, match="subgraph input 3"):
        model.check(bad)
    data = comfy_file()
    data["nodes"][1]["properties"]["proxyWidgets"] = "[not json"
    with pytest.raises(WorkflowError, match="proxyWidgets"):
        to_nodeflow(data, OBJECT_INFO)


def test_malformed_subgraph_parts_give_clear_errors():
    workflow, _ = to_nodeflow(comfy_file(), OBJECT_INFO)
    bad = copy.deepcopy(workflow)
    next(n for n in bad["nodes"] if n["id"] == "10")["promoted"] = "scale_by"
    with pytest.raises(WorkflowError, match=r"\$\.nodes\[\d+\]\.promoted: 'scale_by' is not of type 'array'"):
        to_api(bad, OBJECT_INFO)  # the path to the bad field and what the schema expects there
    bad = copy.deepcopy(workflow)
    bad["subgraphs"][0]["inputs"] = [{"type": "IMAGE"}]
    with pytest.raises(WorkflowError, match=r"\$\.subgraphs\[0\]\.inputs\[0\]: 'name' is a required property"):
        to_api(bad, OBJECT_INFO)
    data = comfy_file()
    data["definitions"]["subgraphs"][0]["nodes"] = "none"
    with pytest.raises(WorkflowError, match="'nodes' must be a list"):
        to_nodeflow(data, OBJECT_INFO)

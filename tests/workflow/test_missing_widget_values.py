"""Editor workflows whose nodes have no usable widgets_values (null, missing, too short, nulls
inside, a null PrimitiveNode) convert to API prompts with the node's defaults (the ``default``
option, or a combo's first choice) and one warning naming the node and the inputs filled; never
a null input value."""

import copy
import json
from pathlib import Path

import pytest

from nodeflow.graph.validate import validate_prompt
from nodeflow.schema.registry import builtin_registry
from nodeflow.workflow.convert import to_api, to_nodeflow
from tests.helpers.editor_workflows import ABSENT, with_lora

DATA = Path(__file__).resolve().parents[1] / "data"
CORE_OBJECT_INFO = json.loads((DATA / "core_nodes_object_info.json").read_text())


@pytest.fixture(scope="module")
def registry():
    return builtin_registry()


@pytest.fixture
def object_info(registry, env):
    (env.models_dir / "loras" / "first.safetensors").write_bytes(b"x")
    (env.models_dir / "loras" / "second.safetensors").write_bytes(b"x")
    (env.models_dir / "checkpoints" / "v1-5-pruned-emaonly-fp16.safetensors").write_bytes(b"x")
    return registry.object_info(env)


def nulls(prompt):
    return [(nid, name) for nid, node in prompt.items() for name, value in node["inputs"].items() if value is None]


def lora_warnings(warnings):
    return [w["message"] for w in warnings if w["node"] == "10"]


@pytest.mark.parametrize("values", [None, ABSENT, [], [None, None, None], {"lora_name": None}])
def test_lora_loader_without_values_gets_the_defaults(object_info, registry, env, values):
    prompt, warnings = to_api(with_lora(values), object_info)
    assert nulls(prompt) == []
    assert prompt["10"]["inputs"] == {
        "model": ["4", 0],
        "clip": ["4", 1],
        "lora_name": "first.safetensors",
        "strength_model": 1.0,
        "strength_clip": 1.0,
    }
    (message,) = lora_warnings(warnings)
    assert "LoraLoader (node 10)" in message
    assert "lora_name='first.safetensors'" in message and "strength_model=1.0" in message
    assert prompt["3"]["inputs"]["model"] == ["10", 0] and prompt["6"]["inputs"]["clip"] == ["10", 1]
    validation = validate_prompt(registry, env, prompt)
    assert validation.ok, validation.node_errors


def test_too_short_values_keep_what_is_there(object_info):
    prompt, warnings = to_api(with_lora(["second.safetensors", 0.5]), object_info)
    assert prompt["10"]["inputs"]["lora_name"] == "second.safetensors"
    assert prompt["10"]["inputs"]["strength_model"] == 0.5 and prompt["10"]["inputs"]["strength_clip"] == 1.0
    (message,) = lora_warnings(warnings)
    assert "strength_clip=1.0" in message and "lora_name" not in message


def test_a_null_seed_control_value_does_not_shift_the_others(object_info):
    workflow = with_lora(["first.safetensors", 1.0, 1.0])
    ksampler = next(n for n in workflow["nodes"] if n["type"] == "KSampler")
    ksampler["widgets_values"] = [5, None, 20, 8, "euler", "normal", 1]
    prompt, _ = to_api(workflow, object_info)
    assert prompt["3"]["inputs"]["seed"] == 5 and prompt["3"]["inputs"]["steps"] == 20
    assert prompt["3"]["inputs"]["sampler_name"] == "euler" and prompt["3"]["inputs"]["denoise"] == 1


def test_a_null_primitive_node_does_not_blank_the_widget_it_feeds(object_info):
    workflow = with_lora(["second.safetensors", 0.7, 0.7])
    lora = workflow["nodes"][-1]
    lora["inputs"].append(
        {"name": "strength_model", "type": "FLOAT", "link": 102, "widget": {"name": "strength_model"}}
    )
    workflow["nodes"].append(
        {
            "id": 11,
            "type": "PrimitiveNode",
            "pos": [0, 0],
            "size": [200, 80],
            "mode": 0,
            "inputs": [],
            "outputs": [{"name": "FLOAT", "type": "FLOAT", "links": [102], "widget": {"name": "strength_model"}}],
            "widgets_values": None,
        }
    )
    workflow["links"].append([102, 11, 0, 10, 2, "FLOAT"])
    prompt, _ = to_api(workflow, object_info)
    assert prompt["10"]["inputs"]["strength_model"] == 0.7 and nulls(prompt) == []


def test_an_empty_combo_is_left_out_with_a_warning_not_null():
    """ComfyUI's own object_info of a machine without LoRAs: lora_name has no choices at all."""
    prompt, warnings = to_api(with_lora(None), CORE_OBJECT_INFO)
    assert nulls(prompt) == [] and "lora_name" not in prompt["10"]["inputs"]
    assert prompt["10"]["inputs"]["strength_model"] == 1.0
    (message,) = lora_warnings(warnings)
    assert "left lora_name empty" in message and "nothing to choose from" in message


def test_the_nodeflow_format_gets_the_defaults_too(object_info):
    workflow, warnings = to_nodeflow(with_lora(None), object_info)
    lora = next(n for n in workflow["nodes"] if n["id"] == "10")
    assert lora["widgets"] == {"lora_name": "first.safetensors", "strength_model": 1.0, "strength_clip": 1.0}
    assert len(lora_warnings(warnings)) == 1
    # a NodeFlow workflow that lost a value converts with the default as well
    broken = copy.deepcopy(workflow)
    next(n for n in broken["nodes"] if n["id"] == "10")["widgets"]["strength_clip"] = None
    prompt, more = to_api(broken, object_info)
    assert prompt["10"]["inputs"]["strength_clip"] == 1.0 and "strength_clip=1.0" in lora_warnings(more)[0]

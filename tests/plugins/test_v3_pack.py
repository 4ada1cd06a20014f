"""A ComfyUI V3 pack (comfy_entrypoint -> ComfyExtension -> io.ComfyNode classes) used unchanged:
/object_info in ComfyUI's V3 shape (pinned to shared/reference), sync and async execute, hidden
values, lazy inputs, fingerprint_inputs, validate_inputs, ui helpers, expansion, block_execution."""

import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

from nodeflow.graph.validate import validate_prompt

from .pack_fixtures import Runner, errors, load_packs
from .v3_pack_source import pack_source, reference_info


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    registry, statuses, env = load_packs(tmp_path_factory.mktemp("v3"), {"v3pack": pack_source()})
    return registry, statuses, env, sys.modules["custom_nodes.v3pack"]


@pytest.fixture
def pack(loaded):
    registry, _, env, module = loaded
    module.CALLS.clear()
    module.VERSIONS.clear()
    return registry, env, module


def grey(color=0x808080):
    return {"class_type": "EmptyImage", "inputs": {"width": 3, "height": 2, "batch_size": 1, "color": color}}


def test_the_entrypoint_registers_the_extensions_nodes(loaded):
    registry, statuses, _, _module = loaded
    status = statuses["v3pack"]
    assert status.ok and status.kind == "comfy_v3" and not status.warnings, status
    assert {"V3Scale", "V3AsyncAdd", "V3InvertTimes", "V3Mapped", "RefSolidMask"} <= set(status.nodes)
    assert registry.get("V3Scale").source == "v3pack"


@pytest.mark.parametrize(
    "core",
    ["SolidMask", "StringConcatenate", "PrimitiveInt", "KSamplerSelect", "SamplerCustom", "ImageCompositeMasked"],
)
def test_object_info_is_comfyuis_v3_shape(loaded, core):
    """Our V3 re-declarations of ComfyUI's V3 core nodes render exactly as ComfyUI renders those."""
    registry, _, env, _ = loaded
    ours = registry.object_info(env)["Ref" + core]
    expected = reference_info()[core]
    assert {key: ours[key] for key in expected} == {**expected, "name": "Ref" + core}
    assert ours["python_module"] == "custom_nodes.v3pack" and ours["description"] == ""


def test_object_info_of_the_packs_own_nodes(loaded):
    registry, _, env, _ = loaded
    info = registry.object_info(env)
    assert info["V3Scale"]["input"] == {
        "required": {
            "image": ["IMAGE", {}],
            "factor": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 4.0, "step": 0.1, "tooltip": "how much"}],
        }
    }
    assert info["V3Scale"]["output_name"] == ["scaled"] and info["V3Scale"]["display_name"] == "Scale (V3)"
    assert info["V3Scale"]["description"] == "Multiply an image."
    add = info["V3AsyncAdd"]
    assert add["input"]["optional"] == {"b": ["INT", {"default": 1}]} and add["input"]["hidden"] == {
        "unique_id": ["UNIQUE_ID"]
    }
    assert add["input_order"] == {"required": ["a"], "optional": ["b"], "hidden": ["unique_id"]}
    assert add["display_name"] is None and add["output_name"] == ["INT", "where"]
    assert info["V3Show"]["input"]["hidden"] == {"prompt": ["PROMPT"], "extra_pnginfo": ["EXTRA_PNGINFO"]}
    assert info["V3Show"]["output_node"] is True
    assert info["V3LazyPick"]["input"]["required"]["a"] == [
        "STRING",
        {"lazy": True, "multiline": False, "forceInput": True},
    ]
    assert info["V3InvertTimes"]["input"]["required"]["image"] == ["IMAGE", {"rawLink": True}]


def test_sync_and_async_execute_with_hidden_values(pack, tmp_path):
    registry, env, module = pack
    prompt = {
        "1": grey(),
        "2": {"class_type": "V3Scale", "inputs": {"image": ["1", 0], "factor": 0.5}},
        "3": {"class_type": "V3Preview", "inputs": {"images": ["2", 0]}},
        "4": {"class_type": "V3AsyncAdd", "inputs": {"a": 2, "b": 3}},
        "5": {"class_type": "V3Mapped", "inputs": {"value": ["4", 0]}},
        "6": {"class_type": "PreviewAny", "inputs": {"source": ["5", 0]}},
        "7": {"class_type": "V3Show", "inputs": {"text": ["4", 1]}},
    }
    run = Runner(registry, env)
    done = {}
    worker = threading.Thread(
        target=lambda: done.update(zip(("result", "events"), run(prompt), strict=False)), name="v3-worker"
    )
    worker.start()
    worker.join(60)
    result = done["result"]
    assert result.status == "success", result.error
    assert result.outputs["6"] == {"text": ["50"]}
    assert result.outputs["7"] == {"text": ["v3-worker:4"]}  # awaited on the worker thread; cls.hidden after await
    images = result.outputs["3"]["images"]
    assert result.outputs["3"]["animated"] == [False] and images[0]["type"] == "temp"
    pixels = np.asarray(PILImage.open(env.directory("temp") / images[0]["filename"]))
    assert pixels.shape == (2, 3, 3) and (pixels == 64).all()  # 128/255 * 0.5, as PNG
    assert module.CALLS == [("V3Scale", 0.5), ("V3AsyncAdd", 2)]
    result, _ = run(prompt)
    assert result.executed == [] and len(module.CALLS) == 2


def test_lazy_inputs_evaluate_only_what_check_lazy_status_asks(pack):
    registry, env, module = pack
    run = Runner(registry, env)
    prompt = {
        "1": {"class_type": "PrimitiveString", "inputs": {"value": "A"}},
        "2": {"class_type": "V3Boom", "inputs": {"text": ["1", 0]}},
        "3": {"class_type": "V3LazyPick", "inputs": {"use_a": True, "a": ["1", 0], "b": ["2", 0]}},
        "4": {"class_type": "V3Show", "inputs": {"text": ["3", 0]}},
    }
    result, _ = run(prompt)
    assert result.outputs["4"] == {"text": ["A"]} and module.CALLS == []
    prompt["3"]["inputs"]["use_a"] = False
    result, events = run(prompt)
    assert result.status == "error"
    assert (
        errors(events)[0]["node_type"] == "V3Boom" and "boom from a V3 node" in errors(events)[0]["exception_message"]
    )


def test_fingerprint_inputs_decides_reruns(pack):
    registry, env, module = pack
    run = Runner(registry, env)
    prompt = {
        "1": {"class_type": "V3Versioned", "inputs": {"name": "m"}},
        "2": {"class_type": "V3Show", "inputs": {"text": ["1", 0]}},
    }
    run(prompt)
    result, _ = run(prompt)
    assert module.CALLS == [("V3Versioned", "m")] and result.executed == []
    module.VERSIONS["m"] = 2  # the "file" changed
    result, _ = run(prompt)
    assert result.outputs["2"] == {"text": ["m@2"]} and result.executed == ["1", "2"]


def test_validate_inputs_replaces_the_builtin_checks_of_the_inputs_it_names(pack):
    registry, env, _ = pack
    prompt = {
        "1": {"class_type": "V3Even", "inputs": {"value": 3}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    error = validate_prompt(registry, env, prompt).node_errors["1"]["errors"][0]
    assert error["type"] == "custom_validation_failed" and "must be even, got 3" in error["details"]
    prompt["1"]["inputs"]["value"] = 12  # over max=10, but validate_inputs names `value` (ComfyUI semantics)
    result, _ = Runner(registry, env)(prompt)
    assert result.outputs["2"] == {"text": ["12"]}


def test_expand_and_block_execution(pack):
    registry, env, _module = pack
    run = Runner(registry, env)
    prompt = {
        "1": grey(0x000000),
        "2": {"class_type": "V3InvertTimes", "inputs": {"image": ["1", 0], "times": 1}},
        "3": {"class_type": "V3Preview", "inputs": {"images": ["2", 0]}},
    }
    result, events = run(prompt)
    assert result.status == "success", result.error and result.error["exception_message"]
    assert result.executed == ["1", "2.0.0.1", "2", "3"]
    png = np.asarray(PILImage.open(env.directory("temp") / result.outputs["3"]["images"][0]["filename"]))
    assert (png == 255).all()
    prompt["2"]["inputs"]["times"] = 2
    result, _ = run(prompt)
    assert result.executed == ["2.0.0.2", "2", "3"]  # 2.0.0.1 (the first ImageInvert) is cached
    gate = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 9}},
        "2": {"class_type": "V3Gate", "inputs": {"value": ["1", 0], "open": False}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
    }
    result, events = run(gate)
    assert result.status == "success" and "3" not in result.outputs
    assert errors(events)[0]["exception_message"] == "Execution Blocked: the gate is closed"


def test_v3_classes_answer_v1_attributes_and_can_be_called_directly(loaded):
    module = loaded[3]
    scale = module.V3Scale
    assert scale.RETURN_TYPES == ("IMAGE",) and scale.RETURN_NAMES == ("scaled",) and scale.CATEGORY == "v3/test"
    assert scale.INPUT_TYPES()["required"]["factor"][0] == "FLOAT"
    out = scale.execute(image=torch.ones(1), factor=3.0)
    assert out[0].item() == 3.0 and out.result[0].item() == 3.0
    with pytest.raises(AttributeError, match="NOPE"):
        _ = scale.NOPE

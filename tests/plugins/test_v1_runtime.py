"""A ComfyUI V1 pack that relies on engine semantics: expansion into core nodes with GraphBuilder
(nested, cached), an async FUNCTION, the "any type" str subclass, an unknown hidden kind, DYNPROMPT
and ExecutionBlocker."""

import sys
import threading

import pytest
import torch

from nodeflow.schema.types import types_match

from .pack_fixtures import Runner, errors, load_packs
from .v1_runtime_pack_source import SOURCE


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    registry, statuses, env = load_packs(tmp_path_factory.mktemp("v1runtime"), {"runtime_pack": SOURCE})
    assert statuses["runtime_pack"].ok and not statuses["runtime_pack"].warnings, statuses["runtime_pack"]
    return registry, env, sys.modules["custom_nodes.runtime_pack"]


@pytest.fixture
def pack(loaded):
    registry, env, module = loaded
    module.CALLS.clear()
    module.PROBES.clear()
    return registry, env, module


def blend(x, factor, times):
    for _ in range(times):
        x = x * (1 - factor) + (1 - x) * factor
    return x


def image(color=0x404040):
    return {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 2, "batch_size": 1, "color": color}}


def test_expansion_into_core_nodes_and_its_cache(pack):
    registry, env, module = pack
    run = Runner(registry, env)
    prompt = {
        "1": image(),
        "2": {"class_type": "BlendInverted", "inputs": {"image": ["1", 0], "times": 2, "factor": 0.25}},
        "3": {"class_type": "Probe", "inputs": {"value": ["2", 0], "label": "out"}},
    }
    result, events = run(prompt)
    assert result.status == "success", result.error
    grey = torch.full((1, 2, 4, 3), 64 / 255)
    assert torch.allclose(module.PROBES["out"], blend(grey, 0.25, 2), atol=1e-6)
    assert module.CALLS == [("BlendInverted", 2, True)]  # rawLink: the node got the link, not the image
    assert result.executed == ["1", "2.0.0.1", "2.0.0.2", "2.0.0.3", "2.0.0.4", "2", "3"]
    assert {d["display_node"] for t, d in events if t == "executing" and d["node"] and d["node"].startswith("2.")} == {
        "2"
    }

    result, _ = run(prompt)
    assert result.executed == [] and module.CALLS == [("BlendInverted", 2, True)]
    prompt["2"]["inputs"]["times"] = 3  # re-expands; the first two rounds come from the cache
    result, _ = run(prompt)
    assert result.executed == ["2.0.0.5", "2.0.0.6", "2", "3"]
    assert torch.allclose(module.PROBES["out"], blend(grey, 0.25, 3), atol=1e-6)
    prompt["2"]["inputs"]["times"] = 0  # the result is the raw link itself: the input image
    run(prompt)
    assert torch.allclose(module.PROBES["out"], grey)


def test_nested_expansion_output_nodes_and_dynprompt(pack):
    registry, env, module = pack
    prompt = {
        "1": image(0x000000),
        "5": {"class_type": "TwiceBlended", "inputs": {"image": ["1", 0], "factor": 0.5}},
        "6": {"class_type": "Probe", "inputs": {"value": ["5", 0], "label": "img"}},
        "7": {"class_type": "Probe", "inputs": {"value": ["5", 1], "label": "where"}},
    }
    result, events = Runner(registry, env)(prompt)
    assert result.status == "success", result.error
    assert torch.allclose(module.PROBES["img"], torch.full((1, 2, 4, 3), 0.5))
    assert module.PROBES["where"] == "5.0.0.4|WhereAmI|5|TwiceBlended|5|True"
    assert [c[0] for c in module.CALLS] == ["TwiceBlended", "BlendInverted", "BlendInverted"]
    assert "5.0.0.1.0.0.2" in result.executed and "5.0.0.2.0.0.2" in result.executed  # nested ImageBlends
    preview = [d for t, d in events if t == "executed" and d["node"] == "5.0.0.3"]
    assert preview[0]["display_node"] == "5" and "shape [1, 2, 4, 3]" in preview[0]["output"]["text"][0]


def test_async_function_runs_on_the_worker_threads_loop(pack):
    registry, env, module = pack
    run = Runner(registry, env)
    prompt = {
        "1": {"class_type": "AsyncDouble", "inputs": {"value": 21}},
        "2": {"class_type": "Probe", "inputs": {"value": ["1", 0], "label": "twice"}},
        "3": {"class_type": "Probe", "inputs": {"value": ["1", 1], "label": "thread"}},
    }

    def in_worker(p):
        worker = threading.Thread(target=lambda: run(p), name="nodeflow-worker-test")
        worker.start()
        worker.join(30)

    in_worker(prompt)
    assert module.PROBES == {"twice": 42, "thread": "nodeflow-worker-test"}
    prompt["1"]["inputs"]["value"] = 5
    in_worker(prompt)
    assert module.PROBES["twice"] == 10
    first, second = module.CALLS
    assert first[2] == second[2] == "nodeflow-worker-test"
    result, _ = run(prompt)  # from another thread: its own loop; cached anyway
    assert result.executed == [] and len(module.CALLS) == 2


def test_any_type_passthrough_links_both_ways(pack):
    registry, env, module = pack
    prompt = {
        "1": image(0xFFFFFF),
        "2": {"class_type": "Passthrough", "inputs": {"anything": ["1", 0]}},
        "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
        "4": {"class_type": "Probe", "inputs": {"value": ["3", 0], "label": "inv"}},
        "5": {"class_type": "PrimitiveInt", "inputs": {"value": 7}},
        "6": {"class_type": "Passthrough", "inputs": {"anything": ["5", 0]}},
        "7": {"class_type": "EmptyImage", "inputs": {"width": ["6", 0], "height": 1, "batch_size": 1, "color": 0}},
        "8": {"class_type": "Probe", "inputs": {"value": ["7", 0], "label": "sized"}},
    }
    result, _ = Runner(registry, env)(prompt)
    assert result.status == "success", result.error
    assert torch.equal(module.PROBES["inv"], torch.zeros((1, 2, 4, 3)))
    assert module.PROBES["sized"].shape == (1, 1, 7, 3)  # an any output into an INT widget input
    info = registry.object_info(env)["Passthrough"]
    assert info["input"]["required"]["anything"] == ["*", {}] and info["output"] == ["*"]

    class AnyName(str):
        def __ne__(self, other):
            return False

    assert types_match(AnyName("ANYTHING"), "IMAGE") and types_match("LATENT", AnyName("whatever"))
    assert not types_match("LATENT", "IMAGE")


def test_unknown_hidden_kind_is_shown_and_not_passed(pack):
    registry, env, module = pack
    prompt = {
        "1": {"class_type": "OddHidden", "inputs": {"value": 4}},
        "2": {"class_type": "Probe", "inputs": {"value": ["1", 0], "label": "odd"}},
    }
    result, _ = Runner(registry, env)(prompt)
    assert result.status == "success", result.error
    assert module.PROBES["odd"] == "1:4"
    assert registry.object_info(env)["OddHidden"]["input"]["hidden"] == {
        "uid": "UNIQUE_ID",
        "mystery": "SOME_FUTURE_KIND",
    }


def test_execution_blocker_from_a_v1_node(pack):
    registry, env, module = pack
    run = Runner(registry, env)
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 3}},
        "2": {"class_type": "Gate", "inputs": {"value": ["1", 0], "open": False, "message": "closed for now"}},
        "3": {"class_type": "Probe", "inputs": {"value": ["2", 0], "label": "gated"}},
        "4": {"class_type": "Probe", "inputs": {"value": ["1", 0], "label": "free"}},
    }
    result, events = run(prompt)
    assert result.status == "success" and module.PROBES == {"free": 3}
    assert [(e["node_id"], e["exception_message"]) for e in errors(events)] == [
        ("3", "Execution Blocked: closed for now")
    ]
    prompt["2"]["inputs"]["open"] = True
    run(prompt)
    assert module.PROBES["gated"] == 3

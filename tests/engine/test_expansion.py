"""Node expansion: a node returns a GraphBuilder graph that runs in its place (ComfyUI semantics):
results, cache reuse inside expansions, nesting, output nodes inside, lists, errors, ExecutionBlocker."""

import pytest

from nodeflow.engine.expansion import prefix_scope
from nodeflow.schema.registry import Registry

from . import expand_nodes, toy_nodes
from .expand_nodes import GraphBuilder

# isort: split
# importable once expand_nodes installed the ComfyUI shims
from comfy_execution.graph_utils import add_graph_prefix, is_link


@pytest.fixture
def registry():
    reg = Registry()
    reg.add_module(toy_nodes)
    reg.add_module(expand_nodes)
    return reg


def count_up(start=5, steps=3):
    return {
        "1": {"class_type": "Const", "inputs": {"value": start}},
        "2": {"class_type": "CountUp", "inputs": {"start": ["1", 0], "steps": steps}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


def test_the_subgraph_runs_in_place_of_the_node(run):
    result, events = run(count_up(5, 3))
    assert result.status == "success", result.error
    assert result.outputs["3"] == {"text": ["8"]}
    assert toy_nodes.RUNS == ["Const", "CountUp", "Add", "Add", "Add", "Show"]
    assert result.executed == ["1", "2.0.0.1", "2.0.0.2", "2.0.0.3", "2", "3"]
    shown = [(d["node"], d["display_node"]) for t, d in events if t == "executing" and d["node"]]
    assert ("2.0.0.2", "2") in shown  # ephemeral nodes show on the node that expanded


def test_rerun_reexecutes_only_what_changed(run):
    run(count_up(5, 3))
    result, _ = run(count_up(5, 3))
    assert toy_nodes.RUNS == [] and result.outputs["3"] == {"text": ["8"]}
    result, _ = run(count_up(5, 4))  # the expansion re-runs; its first three Adds come from the cache
    assert toy_nodes.RUNS == ["CountUp", "Add", "Show"] and result.outputs["3"] == {"text": ["9"]}
    assert result.executed == ["2.0.0.4", "2", "3"]
    result, _ = run(count_up(6, 4))
    assert toy_nodes.RUNS == ["Const", "CountUp", "Add", "Add", "Add", "Add", "Show"]


def test_nested_expansion_with_an_output_node_inside(run):
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "CountTwice", "inputs": {"start": ["1", 0], "steps": 2}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
        "4": {"class_type": "Show", "inputs": {"value": ["2", 1]}},
    }
    result, events = run(prompt)
    assert result.status == "success", result.error
    assert result.outputs["3"] == {"text": ["5"]} and result.outputs["4"] == {"text": ["done"]}
    assert result.outputs["2.0.0.3"] == {"text": ["first=3"]}
    assert (
        "executed",
        {"node": "2.0.0.3", "display_node": "2", "output": {"text": ["first=3"]}, "prompt_id": "p1"},
    ) in events
    assert "2.0.0.1.0.0.2" in result.executed  # the nested CountUp's second Add
    nested = [d for t, d in events if t == "executing" and d["node"] == "2.0.0.2.0.0.1"]
    assert nested[0]["display_node"] == "2"
    result, _ = run(prompt)
    assert toy_nodes.RUNS == [] and result.outputs["3"] == {"text": ["5"]}


def test_expansions_over_list_inputs(run):
    prompt = {
        "1": {"class_type": "Split", "inputs": {"n": 3}},
        "2": {"class_type": "PlusOne", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "Sum", "inputs": {"values": ["2", 0]}},
        "4": {"class_type": "Show", "inputs": {"value": ["3", 0]}},
        "5": {"class_type": "CountUp", "inputs": {"start": ["1", 0], "steps": 2}},
        "6": {"class_type": "Sum", "inputs": {"values": ["5", 0]}},
        "7": {"class_type": "Show", "inputs": {"value": ["6", 0]}},
    }
    result, _ = run(prompt)
    assert result.status == "success", result.error
    assert result.outputs["4"] == {"text": ["6"]}  # (0+1) + (1+1) + (2+1): one expansion per call
    assert {"2.0.0.2", "2.1.0.2", "2.2.0.2"} <= set(result.executed)
    assert result.outputs["7"] == {"text": ["9"]}  # one expansion whose Adds map over the list


@pytest.mark.parametrize(
    "mode, words",
    [
        ("unknown", "NoSuchNode"),
        ("self", "depends on node 2"),
        ("cycle", "cycle"),
        ("missing", "nowhere"),
        ("result", "nowhere"),
    ],
)
def test_broken_expansions_fail_on_the_node(run, mode, words):
    prompt = {
        "2": {"class_type": "BadExpand", "inputs": {"mode": mode}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    result, _ = run(prompt)
    assert result.status == "error"
    assert result.error["node_id"] == "2" and words in result.error["exception_message"]


def test_execution_blocker_stops_the_branch(run):
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 4}},
        "2": {"class_type": "Block", "inputs": {"value": ["1", 0], "open": 0, "message": ""}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
        "4": {"class_type": "Show", "inputs": {"value": ["1", 0], "label": "other="}},
    }
    result, events = run(prompt)
    assert result.status == "success" and "3" not in result.outputs and result.outputs["4"] == {"text": ["other=4"]}
    assert toy_nodes.RUNS.count("Show") == 1 and not [e for e, _ in events if e == "execution_error"]
    prompt["2"]["inputs"]["message"] = "stop"
    result, events = run(prompt)
    blocked = [d for e, d in events if e == "execution_error"]
    assert len(blocked) == 1 and blocked[0]["node_id"] == "3"
    assert (
        blocked[0]["exception_message"] == "Execution Blocked: stop"
        and blocked[0]["exception_type"] == "ExecutionBlocked"
    )
    assert result.status == "success" and "3" not in result.outputs
    prompt["2"]["inputs"]["open"] = 1
    result, _ = run(prompt)
    assert result.outputs["3"] == {"text": ["4"]}


def test_graph_builder_ids_and_editing():
    with prefix_scope("", 0):  # as outside a running node: root "", call 0
        assert GraphBuilder().prefix == ".0.0."
        GraphBuilder.set_default_prefix("7", 2)
        _build_and_edit()


def _build_and_edit():
    one, two = GraphBuilder(), GraphBuilder()
    assert (one.prefix, two.prefix) == ("7.2.0.", "7.2.1.")
    a = one.node("Const", value=1)
    b = one.node("Add", a=a.out(0), b=2)
    named = one.node("Add", id="x", a=b.out(0))
    assert one.node("Add", id="x") is named and one.lookup_node("x") is named
    named.set_override_display_id("9")
    one.replace_node_output("1", 0, 5)
    b.set_input("b", None)
    assert one.finalize() == {
        "7.2.0.1": {"class_type": "Const", "inputs": {"value": 1}},
        "7.2.0.2": {"class_type": "Add", "inputs": {"a": 5}},
        "7.2.0.x": {"class_type": "Add", "inputs": {"a": ["7.2.0.2", 0]}, "override_display_id": "9"},
    }
    one.remove_node("x")
    assert list(one.finalize()) == ["7.2.0.1", "7.2.0.2"]
    graph, outputs = add_graph_prefix(one.finalize(), (b.out(0), 3), "p.")
    assert graph["p.7.2.0.2"]["inputs"] == {"a": 5} and outputs == (["p.7.2.0.2", 0], 3)
    assert is_link(["1", 0]) and not is_link([1, 0]) and not is_link(["1", 0, 2])

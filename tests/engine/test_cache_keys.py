"""Cache keys of nodes whose output depends on which node they are (review 5.1-A): a hidden
UNIQUE_ID input or a not-idempotent class puts the node id into the key; every other node keeps
sharing its cached output across node ids, prompts and workflows."""

import pytest

from nodeflow.plugins.comfy_v1 import spec_from_v1
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Socket

from . import toy_nodes


def twins(kind="WithPrompt"):
    return {
        "1": {"class_type": "Const", "inputs": {"value": 3}},
        "9": {"class_type": kind, "inputs": {"value": ["1", 0]}},
        "10": {"class_type": kind, "inputs": {"value": ["1", 0]}},
    }


def test_unique_id_nodes_with_equal_inputs_get_their_own_output(run):
    result, _ = run(twins())
    assert toy_nodes.RUNS.count("WithPrompt") == 2
    assert result.outputs["9"] == {"text": ["9:3"]}
    assert result.outputs["10"] == {"text": ["10:3"]}


def test_unique_id_nodes_are_still_cached_per_node(run):
    run(twins())
    result, _ = run(twins())
    assert toy_nodes.RUNS == []
    assert result.outputs["10"] == {"text": ["10:3"]}


class NotIdempotentNative(Node):
    """A native node that says its output must not be shared with another node."""

    category = "test"
    output_node = True
    idempotent = False
    inputs = {"value": Socket("INT")}
    outputs = {}

    def run(self, value):
        toy_nodes.RUNS.append("NotIdempotentNative")
        return NodeResult(ui={"text": [f"{self.ctx.node_id}:{value}"]})


class NotIdempotentV1:
    """A ComfyUI V1 class with NOT_IDEMPOTENT = True."""

    NOT_IDEMPOTENT = True
    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"forceInput": True})}}

    def show(self, value):
        toy_nodes.RUNS.append("NotIdempotentV1")
        return {"ui": {"text": [str(value)]}}


@pytest.fixture
def more(registry):
    registry.add_class(NotIdempotentNative, "test")
    registry.add(spec_from_v1(NotIdempotentV1, "NotIdempotentV1", None, "test"))
    return registry


@pytest.mark.parametrize("kind", ["NotIdempotentNative", "NotIdempotentV1"])
def test_not_idempotent_nodes_are_keyed_by_node_id(more, run, kind):
    run(twins(kind))
    assert toy_nodes.RUNS.count(kind) == 2
    run(twins(kind))
    assert toy_nodes.RUNS == []  # cached, per node


def test_plain_nodes_still_share_outputs_across_node_ids(run):
    run(
        {
            "1": {"class_type": "Const", "inputs": {"value": 5}},
            "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}},
        }
    )
    result, _ = run(
        {
            "a": {"class_type": "Const", "inputs": {"value": 5}},
            "b": {"class_type": "Show", "inputs": {"value": ["a", 0]}},
            "c": {"class_type": "Show", "inputs": {"value": ["a", 0]}},
        }
    )
    assert toy_nodes.RUNS == []
    assert result.outputs == {"b": {"text": ["5"]}, "c": {"text": ["5"]}}


def test_spec_flags(registry, more):
    assert registry.get("WithPrompt").keyed_by_node
    assert registry.get("NotIdempotentNative").keyed_by_node
    assert registry.get("NotIdempotentV1").keyed_by_node
    assert not registry.get("Show").keyed_by_node

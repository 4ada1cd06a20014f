"""Every NodeFlow workflow we produce validates against the published JSON Schema."""

import json
from pathlib import Path

import jsonschema
import pytest

from nodeflow.workflow import model
from nodeflow.workflow.convert import to_nodeflow
from nodeflow.workflow.errors import WorkflowError
from nodeflow.workflow.model import SCHEMA

ROOT = Path(__file__).resolve().parents[2]
OBJECT_INFO = json.loads((ROOT / "tests" / "data" / "core_nodes_object_info.json").read_text())


@pytest.mark.parametrize("name", ["default", "image2image", "inpaint_example", "esrgan_example"])
def test_converted_workflows_match_the_schema(name):
    workflow, _ = to_nodeflow(
        json.loads((ROOT / "tests" / "data" / "workflows" / f"{name}.json").read_text()), OBJECT_INFO
    )
    jsonschema.validate(workflow, SCHEMA)


def test_schema_rejects_positional_widgets_and_bad_modes():
    bad = {
        "format": "nodeflow-workflow",
        "version": 1,
        "links": [],
        "nodes": [{"id": "1", "type": "X", "mode": "sleeping", "widgets": {}}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    bad["nodes"][0] = {"id": "1", "type": "X", "widgets": [1, 2]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def _workflow(**changes):
    workflow = {
        "format": "nodeflow-workflow",
        "version": 2,
        "nodes": [{"id": "1", "type": "X", "widgets": {}}, {"id": "2", "type": "Y"}],
        "links": [{"id": 1, "from": ["1", 0], "to": ["2", "a"]}],
    }
    return {**workflow, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nodes": [{"id": "1", "type": "X", "mode": "sleeping"}]}, "$.nodes[0].mode: 'sleeping' is not one of"),
        (
            {"nodes": [{"id": "1", "type": "X", "widgets": [1, 2]}]},
            "$.nodes[0].widgets: [1, 2] is not of type 'object'",
        ),
        ({"nodes": [{"id": "@1", "type": "X"}]}, "$.nodes[0].id: '@1' does not match"),
        ({"links": [{"from": ["1", "0"], "to": ["2", "a"]}]}, "$.links[0].from[1]: '0' is not of type 'integer'"),
        ({"links": "none"}, "$.links: 'none' is not of type 'array'"),
        ({"groups": [{"title": "g"}]}, "$.groups[0]: 'bounding' is a required property"),
    ],
)
def test_the_runtime_check_is_the_schema_with_the_path_to_the_bad_field(changes, message):
    with pytest.raises(WorkflowError) as err:
        model.check(_workflow(**changes))
    assert str(err.value).startswith(f"NodeFlow workflow: {message}"), str(err.value)


def test_what_the_schema_cannot_say_is_still_checked():
    nodes = [{"id": "1", "type": "X"}, {"id": "1", "type": "Y"}]
    with pytest.raises(WorkflowError, match="node id '1' is used twice"):
        model.check(_workflow(nodes=nodes, links=[]))
    with pytest.raises(WorkflowError, match="link 1 refers to missing node '3'"):
        model.check(_workflow(links=[{"id": 1, "from": ["3", 0], "to": ["2", "a"]}]))
    with pytest.raises(WorkflowError, match="newer than this NodeFlow"):
        model.check(_workflow(version=3))
    assert model.check(_workflow())["subgraphs"] == []

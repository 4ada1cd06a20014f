"""Every NodeFlow workflow we produce validates against the published JSON Schema."""

import json
from pathlib import Path

import jsonschema
import pytest

from nodeflow.workflow.convert import to_nodeflow
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

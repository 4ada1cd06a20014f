"""The NodeFlow format's link checks hold under ``python -O`` (which drops ``assert``): a bad link
is a WorkflowError naming the link, never a crash later on."""

import json
import subprocess
import sys

import pytest

from nodeflow.workflow.model import FORMAT, VERSION

CHECK = """
import json, sys
from nodeflow.workflow.model import check
from nodeflow.workflow.errors import WorkflowError
try:
    check(json.loads(sys.argv[1]))
except WorkflowError as exc:
    print("WorkflowError:", exc)
"""


def _workflow(link):
    nodes = [{"id": "1", "type": "A"}, {"id": "2", "type": "B"}]
    return {"format": FORMAT, "version": VERSION, "nodes": nodes, "links": [link]}


@pytest.mark.parametrize(
    "link",
    [
        {"id": 1, "from": ["1", "0"], "to": ["2", "x"]},  # slot given as a string
        {"id": 1, "from": ["1", True], "to": ["2", "x"]},  # a bool is not a slot number
        {"id": 1, "from": ["1", 0], "to": ["2", 3]},  # input named by a number
        {"id": 1, "from": ["1"], "to": ["2", "x"]},
        {"id": 1, "to": ["2", "x"]},
    ],
)
def test_bad_links_are_refused_with_python_O(link):
    out = subprocess.run(
        [sys.executable, "-O", "-c", CHECK, json.dumps(_workflow(link))], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("WorkflowError: NodeFlow workflow: $.links[0]"), out.stdout  # names the link

"""Engine.execute never raises (review 5.1-B): a literal that passed validation when queued but is
no longer valid when the prompt runs (a LoadImage whose file was deleted meanwhile) ends the prompt
with execution_error naming the node, then the closing ``executing`` null."""

import threading

import pytest
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.graph.validate import validate_prompt
from nodeflow.nodes import image_io

from . import toy_nodes


@pytest.fixture
def image_registry(registry):
    registry.add_module(image_io)
    return registry


def load_and_show(name="gone.png"):
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "TakesImage", "inputs": {"image": ["1", 0]}},
    }


def execute(engine, prompt, outputs):
    events = []
    result = engine.execute(Job("p1", prompt, outputs), lambda t, d: events.append((t, d)), threading.Event())
    return result, events


def test_file_deleted_after_validation_is_an_execution_error_on_the_node(image_registry, env):
    Image.new("RGB", (4, 4)).save(env.input_dir / "gone.png")
    prompt = load_and_show()
    assert validate_prompt(image_registry, env, prompt).ok
    (env.input_dir / "gone.png").unlink()
    result, events = execute(Engine(image_registry, env), prompt, ["2"])
    assert result.status == "error"
    assert [t for t, _ in events][-2:] == ["execution_error", "executing"]
    error = events[-2][1]
    assert error["node_id"] == "1" and error["node_type"] == "LoadImage"
    assert "gone.png" in error["exception_message"]
    assert events[-1][1] == {"node": None, "display_node": None, "prompt_id": "p1"}
    assert result.error["node_id"] == "1"
    assert ["execution_error", error] in result.messages


def test_an_unexpected_engine_failure_is_reported_on_the_running_node(registry, env, monkeypatch):
    engine = Engine(registry, env)

    def broken_put(key, value):
        raise RuntimeError("cache broke")

    monkeypatch.setattr(engine.cache, "put", broken_put)
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}},
    }
    result, events = execute(engine, prompt, ["2"])
    assert [t for t, _ in events][-2:] == ["execution_error", "executing"]
    assert events[-2][1]["node_id"] == "1" and "cache broke" in events[-2][1]["exception_message"]
    assert result.status == "error"
    monkeypatch.undo()
    toy_nodes.RUNS.clear()
    result, _ = execute(engine, prompt, ["2"])  # the engine keeps working
    assert result.status == "success" and result.outputs["2"] == {"text": ["1"]}


class PickInput(toy_nodes.Node):
    """A node whose combo lists the input folder: at run time the value is checked again."""

    category = "test"
    output_node = True
    inputs = {"name": toy_nodes.Combo(files="input")}
    outputs = {}

    def run(self, name):
        return toy_nodes.NodeResult(ui={"text": [name]})


def test_a_combo_value_gone_from_its_list_is_an_execution_error_on_the_node(registry, env):
    registry.add_class(PickInput, "test")
    (env.input_dir / "listed.txt").write_text("x")
    prompt = {"5": {"class_type": "PickInput", "inputs": {"name": "listed.txt"}}}
    assert validate_prompt(registry, env, prompt).ok
    (env.input_dir / "listed.txt").unlink()
    result, events = execute(Engine(registry, env), prompt, ["5"])
    assert [t for t, _ in events][-2:] == ["execution_error", "executing"]
    error = events[-2][1]
    assert error["node_id"] == "5" and error["node_type"] == "PickInput"
    assert "'name'" in error["exception_message"] and "listed.txt" in error["exception_message"]
    assert events[-1][1]["node"] is None and result.error["node_id"] == "5"

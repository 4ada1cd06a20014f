"""A combo over a folder is listed once in validation and once in execution per prompt (review
5.1-F: it was 2 + 2 walks), and a file added between prompts is seen by the next one."""

import threading

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.graph.validate import validate_prompt
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo


class PickFile(Node):
    category = "test"
    output_node = True
    inputs = {"name": Combo(files="input")}
    outputs = {}

    def run(self, name):
        return NodeResult(ui={"text": [name]})


def test_each_folder_combo_is_listed_once_per_phase(registry, env, monkeypatch):
    registry.add_class(PickFile, "test")
    walks = []
    original = env.list_files
    monkeypatch.setattr(env, "list_files", lambda kind: walks.append(kind) or original(kind))
    (env.input_dir / "a.txt").write_text("x")
    prompt = {"1": {"class_type": "PickFile", "inputs": {"name": "a.txt"}}}
    assert validate_prompt(registry, env, prompt).ok
    assert walks == ["input"]
    walks.clear()
    engine = Engine(registry, env)
    result = engine.execute(Job("p", prompt, ["1"]), lambda *a: None, threading.Event())
    assert result.status == "success" and result.outputs["1"] == {"text": ["a.txt"]}
    assert walks == ["input"]
    (env.input_dir / "b.txt").write_text("x")  # a new file is seen at once
    prompt["1"]["inputs"]["name"] = "b.txt"
    assert validate_prompt(registry, env, prompt).ok
    result = engine.execute(Job("p2", prompt, ["1"]), lambda *a: None, threading.Event())
    assert result.outputs["1"] == {"text": ["b.txt"]}

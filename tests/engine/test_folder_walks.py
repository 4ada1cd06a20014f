"""A combo over a folder is listed once in validation and once in execution per prompt (review
5.1-F: it was 2 + 2 walks), and a file added between prompts is seen by the next one."""

import os
import threading
import time

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


def _age(root, seconds=60):
    """Date every directory under ``root`` back, as folders that have not changed lately are."""
    old = time.time() - seconds
    for dirpath, _dirs, _files in os.walk(root):
        os.utime(dirpath, (old, old))


def test_listing_is_cached_until_a_directory_changes(env):
    root = env.models_dir / "checkpoints"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.safetensors").write_bytes(b"x")
    (root / "sub" / "deeper" / "b.safetensors").write_bytes(b"x")
    (root / "notes.txt").write_text("not a model")
    _age(env.models_dir)
    assert env.list_files("checkpoints") == ["a.safetensors", "sub/deeper/b.safetensors"]
    walks = env.listings.walks
    for _ in range(3):
        assert env.list_files("checkpoints") == ["a.safetensors", "sub/deeper/b.safetensors"]
    assert env.listings.walks == walks  # unchanged folders: no walk, one stat per directory

    (root / "sub" / "deeper" / "c.safetensors").write_bytes(b"x")  # a change two levels down
    assert env.list_files("checkpoints") == ["a.safetensors", "sub/deeper/b.safetensors", "sub/deeper/c.safetensors"]
    (root / "a.safetensors").unlink()
    assert env.list_files("checkpoints") == ["sub/deeper/b.safetensors", "sub/deeper/c.safetensors"]
    (root / "sub" / "deeper").rename(root / "sub" / "moved")
    assert env.list_files("checkpoints") == ["sub/moved/b.safetensors", "sub/moved/c.safetensors"]
    assert env.listings.walks > walks


def test_a_folder_created_after_a_listing_is_seen(env, tmp_path):
    extra = tmp_path / "elsewhere" / "loras"
    env.add_model_path("loras", extra)
    assert env.list_files("loras") == []
    extra.mkdir(parents=True)
    (extra / "style.safetensors").write_bytes(b"x")
    assert env.list_files("loras") == ["style.safetensors"]


def test_input_files_and_model_folders_show_at_once(env):
    _age(env.base)
    assert env.list_files("input") == []
    (env.input_dir / "new.png").write_bytes(b"x")
    assert env.list_files("input") == ["new.png"]
    expanders = env.models_dir / "prompt_expanders"
    (expanders / "gpt").mkdir()
    _age(env.models_dir)
    assert env.list_files("prompt_expanders") == []
    (expanders / "gpt" / "config.json").write_text("{}")  # the folder becomes a model folder
    assert env.list_files("prompt_expanders") == ["gpt"]


def test_a_listing_of_a_folder_changed_just_now_is_read_again(env):
    """Within a mtime tick a second change may leave the mtime unchanged: such listings are not reused."""
    (env.input_dir / "a.png").write_bytes(b"x")
    env.list_files("input")
    walks = env.listings.walks
    env.list_files("input")
    assert env.listings.walks == walks + 1

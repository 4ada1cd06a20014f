"""The workflow library routes: NodeFlow's web/examples and packs' example_workflows (ComfyUI's
/workflow_templates shape and file route), and the model folder of each file-picking input."""

import json

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.plugins.loader import PackStatus
from nodeflow.schema.registry import builtin_registry
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig


@pytest.fixture
async def library(aiohttp_client, env, tmp_path):
    web_dir = tmp_path / "web"
    (web_dir / "examples").mkdir(parents=True)
    (web_dir / "index.html").write_text("<!doctype html>")
    (web_dir / "examples" / "demo.json").write_text(json.dumps({"format": "nodeflow-workflow", "nodes": []}))
    pack = tmp_path / "packs" / "ComfyUI-Cool"
    (pack / "example_workflows").mkdir(parents=True)
    (pack / "example_workflows" / "basic flow.json").write_text(json.dumps({"nodes": [], "links": []}))
    (pack / "example_workflows" / "basic flow.jpg").write_bytes(b"\xff\xd8\xff\xe0 thumb")
    (pack / "example_workflows" / "notes.txt").write_text("not a workflow")
    other = tmp_path / "packs" / "old_pack"
    (other / "examples").mkdir(parents=True)
    (other / "examples" / "x.json").write_text("{}")
    bare = tmp_path / "packs" / "no_examples"
    bare.mkdir()
    statuses = [
        PackStatus(name="ComfyUI-Cool", path=str(pack), ok=True),
        PackStatus(name="old_pack", path=str(other)),
        PackStatus(name="no_examples", path=str(bare), ok=True),
    ]
    registry = builtin_registry()
    config = ServerConfig(web_dir=web_dir, plugin_status=statuses)
    client = await aiohttp_client(create_app(config, registry, Engine(registry, env), env))
    return client


async def test_comfyui_workflow_templates_list_and_files(library):
    listing = await (await library.get("/api/workflow_templates")).json()
    assert listing == {"ComfyUI-Cool": ["basic flow"], "old_pack": ["x"]}
    r = await library.get("/api/workflow_templates/ComfyUI-Cool/basic%20flow.json")
    assert r.status == 200 and await r.json() == {"nodes": [], "links": []}
    assert (await library.get("/workflow_templates/ComfyUI-Cool/basic%20flow.jpg")).status == 200
    for bad, status in (
        ("ComfyUI-Cool/notes.txt", 404),
        ("ComfyUI-Cool/missing.json", 404),
        ("nope/x.json", 404),
        ("no_examples/x.json", 404),
        ("ComfyUI-Cool/..%2F..%2Fsecret.json", 400),
    ):
        r = await library.get(f"/workflow_templates/{bad}")
        assert r.status == status, bad
        assert "message" in (await r.json())["error"]


async def test_editor_template_list_has_nodeflow_examples_first(library):
    items = await (await library.get("/nodeflow/templates")).json()
    assert items[0] == {"source": "NodeFlow", "name": "demo", "url": "examples/demo.json", "thumbnail": None}
    cool = next(i for i in items if i["source"] == "ComfyUI-Cool")
    assert cool == {
        "source": "ComfyUI-Cool",
        "name": "basic flow",
        "url": "api/workflow_templates/ComfyUI-Cool/basic flow.json",
        "thumbnail": "api/workflow_templates/ComfyUI-Cool/basic flow.jpg",
    }
    assert [i["source"] for i in items] == ["NodeFlow", "ComfyUI-Cool", "old_pack"]


async def test_model_inputs_name_each_loader_folder(library):
    folders = await (await library.get("/nodeflow/model_inputs")).json()
    assert folders["CheckpointLoaderSimple"] == {"ckpt_name": "checkpoints"}
    assert folders["LoraLoader"]["lora_name"] == "loras"
    assert folders["UpscaleModelLoader"] == {"model_name": "upscale_models"}
    assert "LoadImage" not in folders  # input/ files are not models

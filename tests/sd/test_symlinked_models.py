"""Models symlinked into the model folders (a file, or a whole folder on another disk) are listed,
validated and loaded; model names stay checked (no '..', absolute paths, NUL, backslashes); files
served over HTTP keep strict real-path containment (a symlink out of output/ is refused)."""

import os
import threading

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import UnsafePath
from nodeflow.graph.validate import validate_prompt
from nodeflow.models.embeddings import embedding_finder
from nodeflow.models.manager import ModelManager
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api


@pytest.fixture
def shelf(env, tiny_ckpt_file, tmp_path_factory):
    """A folder outside the base folder holding the tiny checkpoint, symlinked in twice: the file
    as checkpoints/linked.safetensors and the folder as checkpoints/shelf."""
    outside = tmp_path_factory.mktemp("other_disk")
    os.link(tiny_ckpt_file, outside / "kept.safetensors")
    os.symlink(outside / "kept.safetensors", env.models_dir / "checkpoints" / "linked.safetensors")
    os.symlink(outside, env.models_dir / "checkpoints" / "shelf")
    return env


def load(name):
    return {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": name}}}


@pytest.mark.parametrize("name", ["linked.safetensors", "shelf/kept.safetensors"])
def test_a_symlinked_checkpoint_is_listed_validated_and_loaded(registry, shelf, name):
    assert name in shelf.list_files("checkpoints")
    prompt = load(name)
    prompt["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "a star", "clip": ["1", 1]}}
    prompt["3"] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["2", 0]}}
    validation = validate_prompt(
        registry, shelf, {**prompt, "9": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}}}
    )
    assert validation.ok, validation.node_errors
    engine = Engine(registry, shelf, models=ModelManager(cpu=True))
    result = engine.execute(Job("p", prompt, ["3"]), lambda *a: None, threading.Event())
    assert result.status == "success", result.error


@pytest.mark.parametrize(
    "name",
    [
        "../linked.safetensors",
        "shelf/../../x.safetensors",
        "/etc/passwd",
        "C:/x.safetensors",
        "a\x00.safetensors",
        "shelf\\kept.safetensors",
        "./linked.safetensors",
        "shelf//kept.safetensors",
        "\uff0e\uff0e/x.safetensors",
    ],
)
def test_model_names_stay_checked(shelf, registry, name):
    with pytest.raises(UnsafePath):
        shelf.model_path("checkpoints", name)
    assert not validate_prompt(
        registry, shelf, {**load(name), "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}}
    ).ok


def test_a_symlinked_embeddings_folder_is_found(env, tmp_path_factory):
    outside = tmp_path_factory.mktemp("embeddings_elsewhere")
    (outside / "style.pt").write_bytes(b"x")
    os.symlink(outside, env.models_dir / "embeddings" / "shared")
    find = embedding_finder(env.model_paths["embeddings"])
    assert find("shared/style") == env.models_dir / "embeddings" / "shared" / "style.pt"
    assert find("../shared/style") is None


async def test_over_http_models_load_through_symlinks_but_view_stays_contained(
    aiohttp_client, registry, shelf, tmp_path_factory
):
    secret = tmp_path_factory.mktemp("private") / "secret.png"
    secret.write_bytes(b"TOPSECRET-SYMLINK")
    os.symlink(secret, shelf.output_dir / "leak.png")
    os.symlink(secret.parent, shelf.output_dir / "leakdir")
    app = create_app(ServerConfig(), registry, Engine(registry, shelf, models=ModelManager(cpu=True)), shelf)
    api = Api(await aiohttp_client(app), shelf)
    assert "shelf/kept.safetensors" in await (await api.client.get("/models/checkpoints")).json()
    prompt = load("shelf/kept.safetensors")
    prompt["2"] = {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    prompt["3"] = {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}}
    prompt["4"] = {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
    status, body = await api.queue(prompt)
    assert status == 200, body
    history = await api.wait_history(body["prompt_id"], timeout=120)
    assert history["status"]["status_str"] == "success", history["status"]
    for query in ("filename=leak.png&type=output", "filename=secret.png&subfolder=leakdir&type=output"):
        r = await api.client.get(f"/view?{query}")
        assert r.status in (400, 403, 404), query
        assert b"TOPSECRET-SYMLINK" not in await r.read()

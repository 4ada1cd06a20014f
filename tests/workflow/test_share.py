"""Sharing: images carry ComfyUI's editor format under ``workflow``, the API prompt under ``prompt``
and NodeFlow's own format under ``nodeflow_workflow`` (which NodeFlow prefers when reading back).
Round trips both ways, through a real server and the real Save Image node."""

import io
import json

import pytest
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.nodes import image_io, image_ops
from nodeflow.schema.registry import Registry
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from nodeflow.workflow.convert import detect_format, to_api, to_comfyui, to_nodeflow
from nodeflow.workflow.image_metadata import read_image_metadata, workflow_from_image, write_png, write_webp
from nodeflow.workflow.share import NODEFLOW_KEY, shareable_pnginfo
from tests.helpers.api_client import Api
from tests.helpers.editor_workflows import OBJECT_INFO, image_chain


def info_for(types):
    return {t: OBJECT_INFO[t] for t in types if t in OBJECT_INFO}


def nodeflow_chain():
    """image_chain() in NodeFlow's format, with what only NodeFlow keeps: a reroute point on a link."""
    workflow, _ = to_nodeflow(image_chain(), OBJECT_INFO)
    assert any(link.get("via") for link in workflow["links"])
    return workflow


def test_nodeflow_workflow_is_shared_in_comfyui_format_with_nodeflows_beside_it():
    original = nodeflow_chain()
    shared = shareable_pnginfo({"workflow": original, "other": 1}, info_for)
    assert list(shared) == ["workflow", NODEFLOW_KEY, "other"]  # "workflow" first: WebP puts it in Make
    assert detect_format(shared["workflow"]) == "comfyui" and shared["workflow"]["version"] == 0.4
    assert shared[NODEFLOW_KEY] == original and shared["other"] == 1
    # ComfyUI's copy is the same graph: the same prompt comes out of either
    assert to_api(shared["workflow"], OBJECT_INFO)[0] == to_api(original, OBJECT_INFO)[0]
    assert any(n["type"] == "Reroute" for n in shared["workflow"]["nodes"])  # the via point as ComfyUI draws it


def test_comfyui_format_and_other_values_pass_unchanged():
    comfy = image_chain()
    for value in ({"workflow": comfy}, {"something": 1}, None, "text", {"workflow": {"nodes": "bad"}}):
        assert shareable_pnginfo(value, info_for) is value


def test_a_workflow_that_cannot_be_exported_keeps_only_nodeflows_copy():
    broken = {
        "format": "nodeflow-workflow",
        "version": 1,
        "nodes": [{"id": "1"}],
        "links": [],
        "groups": [],
        "notes": [],
    }
    shared = shareable_pnginfo({"workflow": broken}, info_for)
    assert shared == {NODEFLOW_KEY: broken}


@pytest.mark.parametrize("write", [write_png, write_webp])
def test_nodeflow_copy_wins_when_nodeflow_reads_the_image(write):
    original = nodeflow_chain()
    prompt, _ = to_api(original, OBJECT_INFO)
    data = write(Image.new("RGB", (4, 4)), prompt, shareable_pnginfo({"workflow": original}, info_for))
    meta = read_image_metadata(data)
    assert detect_format(meta["workflow"]) == "comfyui" and meta[NODEFLOW_KEY] == original and meta["prompt"] == prompt
    back, _ = workflow_from_image(data, OBJECT_INFO)
    assert back == original  # exactly NodeFlow's (via points, ids), not a re-import of ComfyUI's copy


def test_a_comfyui_image_still_opens_from_its_workflow():
    comfy = image_chain()
    data = write_png(Image.new("RGB", (4, 4)), None, {"workflow": comfy})
    back, _ = workflow_from_image(data, OBJECT_INFO)
    assert back == to_nodeflow(comfy, OBJECT_INFO)[0]


@pytest.fixture
async def image_api(aiohttp_client, env):
    registry = Registry()
    registry.add_module(image_io)
    registry.add_module(image_ops)
    app = create_app(ServerConfig(max_history=50), registry, Engine(registry, env), env)
    return Api(await aiohttp_client(app), env)


def _saved_png(api, entry):
    [image] = [img for out in entry["outputs"].values() for img in out["images"]]
    return (api.env.directory("output") / image["subfolder"] / image["filename"]).read_bytes()


async def test_save_image_through_the_server_writes_comfyuis_format_and_nodeflows(image_api):
    original = nodeflow_chain()
    prompt, _ = to_api(original, OBJECT_INFO)
    status, body = await image_api.queue(prompt, extra_data={"extra_pnginfo": {"workflow": original}})
    assert status == 200, body
    entry = await image_api.wait_history(body["prompt_id"])
    # /history carries the shareable form too (a ComfyUI client reads "workflow" as its own format)
    stored = entry["prompt"][3]["extra_pnginfo"]
    assert detect_format(stored["workflow"]) == "comfyui" and stored[NODEFLOW_KEY] == original
    data = _saved_png(image_api, entry)
    with Image.open(io.BytesIO(data)) as img:
        texts = dict(img.text)
    assert set(texts) == {"prompt", "workflow", NODEFLOW_KEY}
    comfy = json.loads(texts["workflow"])
    assert detect_format(comfy) == "comfyui" and json.loads(texts["prompt"]) == prompt
    # ComfyUI -> NodeFlow: the ComfyUI copy alone rebuilds the same graph and prompt
    rebuilt, _ = to_nodeflow(comfy, OBJECT_INFO)
    assert to_api(rebuilt, OBJECT_INFO)[0] == prompt
    # NodeFlow -> NodeFlow: its own copy comes back exactly
    assert workflow_from_image(data, OBJECT_INFO)[0] == original


async def test_a_comfyui_client_queueing_its_own_format_gets_it_back_unchanged(image_api):
    comfy = to_comfyui(nodeflow_chain(), OBJECT_INFO)[0]
    prompt, _ = to_api(comfy, OBJECT_INFO)
    status, body = await image_api.queue(prompt, extra_data={"extra_pnginfo": {"workflow": comfy}})
    assert status == 200, body
    data = _saved_png(image_api, await image_api.wait_history(body["prompt_id"]))
    meta = read_image_metadata(data)
    assert meta["workflow"] == comfy and meta[NODEFLOW_KEY] is None

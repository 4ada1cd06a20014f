"""LoadImage with ComfyUI's annotated names over a real server (review 5.1-C): "x.png [output]"
is accepted by POST /prompt and loads; an unknown file is a 400 naming the node and input."""

import pytest
from PIL import Image


@pytest.fixture
def image_registry(registry):
    from nodeflow.nodes import image_io

    registry.add_module(image_io)
    return registry


def load(name):
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "TakesImage", "inputs": {"image": ["1", 0]}},
    }


async def test_an_image_from_the_output_folder_loads(api, image_registry):
    Image.new("RGB", (4, 4)).save(api.env.output_dir / "made.png")
    status, body = await api.queue(load("made.png [output]"))
    assert status == 200 and body["node_errors"] == {}, body
    history = await api.wait_history(body["prompt_id"])
    assert history["status"]["status_str"] == "success" and history["outputs"]["2"] == {"text": ["image"]}


async def test_an_unknown_annotated_image_is_refused(api, image_registry):
    status, body = await api.queue(load("missing.png [output]"))
    assert status == 400
    (err,) = body["node_errors"]["1"]["errors"]
    assert err["type"] == "custom_validation_failed" and "missing.png" in err["details"]

"""A prompt whose LoadImage file is deleted while it waits in the queue (review 5.1-B), on a real
server: the websocket shows execution_error naming the node, then ``executing`` null; history
records the error with the node id; the next prompt runs."""

from PIL import Image

from tests.helpers.api_client import receive_until


def slow(steps=300):
    return {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": steps}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


LOAD = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "queued.png"}},
    "2": {"class_type": "TakesImage", "inputs": {"image": ["1", 0]}},
}


async def test_image_deleted_while_queued_is_an_execution_error_on_the_node(api, registry):
    from nodeflow.nodes import image_io

    registry.add_module(image_io)
    Image.new("RGB", (4, 4)).save(api.env.input_dir / "queued.png")
    ws = await api.ws("c")
    _, blocker = await api.queue(slow(), client_id="c")
    await receive_until(ws, "progress")  # the worker is busy with the slow prompt
    status, queued = await api.queue(LOAD, client_id="c")
    assert status == 200 and queued["node_errors"] == {}
    (api.env.input_dir / "queued.png").unlink()

    seen = await receive_until(ws, "execution_error", prompt_id=queued["prompt_id"])
    error = seen[-1][1]
    assert error["node_id"] == "1" and error["node_type"] == "LoadImage"
    assert "queued.png" in error["exception_message"]
    done = await receive_until(ws, "executing")
    assert done[-1][1] == {"node": None, "display_node": None, "prompt_id": queued["prompt_id"]}

    hist = await api.wait_history(queued["prompt_id"])
    assert hist["status"]["status_str"] == "error" and hist["status"]["completed"] is False
    recorded = dict(hist["status"]["messages"])["execution_error"]
    assert recorded["node_id"] == "1" and recorded["node_type"] == "LoadImage"

    _, after = await api.queue(slow(1), client_id="c")  # the server keeps serving
    await receive_until(ws, "execution_success", prompt_id=after["prompt_id"])
    assert (await api.wait_history(blocker["prompt_id"]))["status"]["status_str"] == "success"
    await ws.close()

"""/prompt, /queue, /history, /interrupt and the websocket messages, on a real server."""

import asyncio
import struct

from tests.helpers.api_client import receive_until


def chain(value=1, b=2):
    return {
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": b}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


def slow(steps=400, value=1):
    return {
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": steps}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


async def test_prompt_runs_and_reports_every_message_type(api):
    ws = await api.ws("c1")
    first = await receive_until(ws, "status")
    assert first[-1][1]["sid"] == "c1" and first[-1][1]["status"]["exec_info"]["queue_remaining"] == 0
    status, body = await api.queue(chain(), client_id="c1")
    assert status == 200 and set(body) == {"prompt_id", "number", "node_errors"} and body["node_errors"] == {}
    seen = await receive_until(ws, "execution_success", prompt_id=body["prompt_id"])
    kinds = [k for k, _ in seen]
    for kind in ("status", "execution_start", "execution_cached", "executing", "executed"):
        assert kind in kinds, kind
    executed = next(d for k, d in seen if k == "executed")
    assert executed == {"node": "3", "display_node": "3", "output": {"text": ["3"]}, "prompt_id": body["prompt_id"]}
    done = await receive_until(ws, "executing")
    assert done[-1][1]["node"] is None
    hist = await api.wait_history(body["prompt_id"])
    assert hist["outputs"] == {"3": {"text": ["3"]}}
    assert hist["status"]["status_str"] == "success" and hist["status"]["completed"] is True
    assert [m[0] for m in hist["status"]["messages"]] == ["execution_start", "execution_cached", "execution_success"]
    assert hist["prompt"][1] == body["prompt_id"] and hist["prompt"][2] == chain()
    # the same prompt again: everything cached, listed in execution_cached
    _, again = await api.queue(chain(), client_id="c1")
    seen = await receive_until(ws, "execution_success", prompt_id=again["prompt_id"])
    cached = next(d for k, d in seen if k == "execution_cached")["nodes"]
    assert sorted(cached) == ["1", "2", "3"]
    await ws.close()


async def test_events_go_only_to_the_prompts_client(api):
    ws_a, ws_b = await api.ws("a"), await api.ws("b")
    await receive_until(ws_a, "status")
    await receive_until(ws_b, "status")
    _, body = await api.queue(chain(5), client_id="a")
    await receive_until(ws_a, "execution_success", prompt_id=body["prompt_id"])
    await asyncio.sleep(0.2)
    leaked = []
    while True:
        try:
            msg = await ws_b.receive(timeout=0.2)
        except TimeoutError:
            break
        leaked.append(msg.json()["type"])
    assert all(kind == "status" for kind in leaked), leaked  # queue status is for everyone
    await ws_a.close()
    await ws_b.close()


async def test_progress_and_interrupt_of_a_running_prompt(api):
    ws = await api.ws("c")
    _, body = await api.queue(slow(2000), client_id="c")
    seen = await receive_until(ws, "progress")
    assert seen[-1][1]["node"] == "2" and seen[-1][1]["max"] == 2000
    r = await api.post("/interrupt", {"prompt_id": "someone-else"})
    assert r.status == 200
    r = await api.post("/interrupt", {})
    assert r.status == 200
    seen = await receive_until(ws, "execution_interrupted", prompt_id=body["prompt_id"])
    stop = seen[-1][1]
    assert stop["node_id"] == "2" and stop["node_type"] == "Slow"
    hist = await api.wait_history(body["prompt_id"])
    assert hist["status"]["status_str"] == "error" and hist["status"]["completed"] is False
    await ws.close()


async def test_node_exception_is_execution_error_and_next_prompt_runs(api):
    ws = await api.ws("c")
    bad = {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "Fail", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    _, first = await api.queue(bad, client_id="c")
    _, second = await api.queue(chain(9), client_id="c")
    seen = await receive_until(ws, "execution_error", prompt_id=first["prompt_id"])
    err = seen[-1][1]
    assert err["node_id"] == "2" and err["exception_type"] == "ValueError" and err["traceback"]
    await receive_until(ws, "execution_success", prompt_id=second["prompt_id"])
    assert (await api.wait_history(second["prompt_id"]))["outputs"]["3"] == {"text": ["11"]}
    await ws.close()


async def test_queue_listing_delete_clear_and_front(api):
    _, running = await api.queue(slow(3000))
    _, p1 = await api.queue(chain(1))
    _, p2 = await api.queue(chain(2))
    _, p0 = await api.queue(chain(3), front=True)
    await asyncio.sleep(0.3)
    q = await (await api.client.get("/queue")).json()
    assert [item[1] for item in q["queue_running"]] == [running["prompt_id"]]
    assert [item[1] for item in q["queue_pending"]] == [p0["prompt_id"], p1["prompt_id"], p2["prompt_id"]]
    assert len(q["queue_pending"][0]) == 5
    assert (await (await api.client.get("/prompt")).json()) == {"exec_info": {"queue_remaining": 4}}
    assert (await api.post("/queue", {"delete": [p1["prompt_id"]]})).status == 200
    q = await (await api.client.get("/api/queue")).json()
    assert [item[1] for item in q["queue_pending"]] == [p0["prompt_id"], p2["prompt_id"]]
    assert (await api.post("/queue", {"clear": True})).status == 200
    q = await (await api.client.get("/queue")).json()
    assert q["queue_pending"] == []
    await api.post("/interrupt", {})
    await api.wait_history(running["prompt_id"])


async def test_history_paging_delete_and_clear(api):
    ids = []
    for i in range(4):
        _, body = await api.queue(chain(i))
        ids.append(body["prompt_id"])
    for pid in ids:
        await api.wait_history(pid)
    everything = await (await api.client.get("/history")).json()
    assert list(everything) == ids
    newest_two = await (await api.client.get("/history?max_items=2")).json()
    assert list(newest_two) == ids[2:]
    skipped = await (await api.client.get("/history?max_items=2&offset=1")).json()
    assert list(skipped) == ids[1:3]
    assert (await api.client.get("/history?max_items=x")).status == 400
    await api.post("/history", {"delete": [ids[0]]})
    assert ids[0] not in await (await api.client.get("/history")).json()
    await api.post("/api/history", {"clear": True})
    assert await (await api.client.get("/history")).json() == {}


async def test_validation_errors_are_400_with_node_errors(api):
    status, body = await api.queue(
        {
            "1": {"class_type": "Const", "inputs": {"value": 5000}},
            "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}},
        }
    )
    assert status == 400
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert body["node_errors"]["1"]["errors"][0]["type"] == "value_bigger_than_max"
    for raw in (b"not json", b"[1,2]", b""):
        r = await api.client.post("/prompt", data=raw, headers={"Content-Type": "application/json"})
        assert r.status == 400 and (await r.json())["error"]["message"]
    r = await api.client.post("/prompt", data=b"prompt=1", headers={"Content-Type": "text/plain"})
    assert r.status == 415
    # Python's json would read these tokens; they are not JSON and could not be stored or sent back
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        raw = b'{"prompt": {"1": {"class_type": "Const", "inputs": {"value": 1}}}, "extra_data": {"x": ' + token + b"}}"
        r = await api.client.post("/prompt", data=raw, headers={"Content-Type": "application/json"})
        message = (await r.json())["error"]["message"]
        assert r.status == 400 and token.decode().lstrip("-") in message and "finite number" in message


async def test_partial_validity_runs_the_valid_output(api):
    prompt = chain()
    prompt["4"] = {"class_type": "Show", "inputs": {"value": ["9", 0]}}
    status, body = await api.queue(prompt)
    assert status == 200 and "4" in body["node_errors"]
    hist = await api.wait_history(body["prompt_id"])
    assert set(hist["outputs"]) == {"3"}


async def test_binary_text_frames(api):
    from nodeflow.server.hub import encode_binary

    frame = encode_binary("text", {"node": "7", "text": "héllo"})
    kind, length = struct.unpack(">II", frame[:8])
    assert kind == 3 and frame[8 : 8 + length] == b"7" and frame[8 + length :].decode() == "héllo"
    frame = encode_binary("preview", {"format": "PNG", "image": b"\x89PNG"})
    assert struct.unpack(">II", frame[:8]) == (1, 2) and frame[8:] == b"\x89PNG"

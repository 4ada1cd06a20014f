"""NodeFlow on a real local Ray cluster (``--ray local:2``: two workers of one core each): the demo
workflow runs through it with its outputs in the head's folder and its events at the client that
queued it; affinity (no second load), fairness, model checks, interrupt, and killed workers."""

import json
import os
import signal
import time

import pytest
from PIL import Image

from tests.helpers import sd_prompts
from tests.helpers.server_process import ROOT
from tests.helpers.toy_prompts import slow_prompt

from .ray_server import Listener, Server

pytest.importorskip("ray")
# slow: starts local Ray clusters; the timeout: a local Ray cluster starts inside the first test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DEMO = "nodeflow-demo-sd1.safetensors"


def txt2img(ckpt=DEMO, seed=1, steps=2, prefix="ray"):
    return sd_prompts.txt2img(
        seed, steps, cfg=3.0, width=32, height=32, text="red star", save="SaveImage", ckpt=ckpt, prefix=prefix
    )


def status_of(entry):
    return entry["status"]["status_str"], [m[0] for m in entry["status"]["messages"]]


def finished_at(entry):
    return next(
        m[1]["timestamp"] for m in entry["status"]["messages"] if m[0] in ("execution_success", "execution_error")
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("ray-head")
    # a second checkpoint with other content (affinity is by content): the demo one, weights scaled
    from safetensors.torch import load_file, save_file

    tensors = load_file(ROOT / "nodeflow" / "demo" / "weights" / "checkpoints" / DEMO)
    (base / "models" / "checkpoints").mkdir(parents=True)
    save_file(
        {k: v * 0.999 if v.is_floating_point() else v for k, v in tensors.items()},
        base / "models" / "checkpoints" / "other.safetensors",
    )
    srv = Server(base, ("--ray", "local:2", "--worker-cpus", "1"))
    try:
        srv.ready(2)
        yield srv
    finally:
        srv.stop()


def test_the_demo_workflow_runs_on_ray_workers_with_outputs_and_events_at_their_client(server):
    workflow = json.loads((ROOT / "web" / "default_workflow.json").read_text())
    alice, bob = Listener(server.port, "alice"), Listener(server.port, "bob")
    try:
        first = server.call("POST", "/prompt", {"workflow": workflow, "client_id": "alice"})["prompt_id"]
        second = server.queue(txt2img(seed=7), client="bob")
        entries = {pid: server.done(pid) for pid in (first, second)}
        for entry in entries.values():
            assert status_of(entry)[0] == "success", entry["status"]
        # outputs are in the head's output folder, under the names the history gives
        image = entries[first]["outputs"]["11"]["images"][0]
        with Image.open(server.base / "output" / image["subfolder"] / image["filename"]) as img:
            assert img.size == (256, 256)  # 64x64 upscaled 4x by the demo upscaler
        small = entries[second]["outputs"]["7"]["images"][0]
        assert (server.base / "output" / small["subfolder"] / small["filename"]).is_file()
        assert image["filename"] != small["filename"]
        server.wait(lambda: alice.of("execution_success") and bob.of("execution_success"), 30, "final events")
        for listener, mine, other in ((alice, first, second), (bob, second, first)):
            ids = {
                m.get("prompt_id")
                for kind in ("execution_start", "executing", "progress", "executed", "execution_success")
                for m in listener.of(kind)
            }
            assert mine in ids and other not in ids
            assert listener.of("progress") and listener.binary > 0  # sampler steps and previews arrived
        assert "11" in [m["node"] for m in alice.of("executed")]  # SaveImage (and the expander's text)
        assert [m["node"] for m in bob.of("executed")] == ["7"]
        assert "ExpandPrompt" not in json.dumps(bob.messages)  # bob never hears of alice's nodes
    finally:
        alice.close()
        bob.close()
    workers = server.workers()
    assert sorted(w["name"] for w in workers) == ["w1", "w2"]
    assert {w["node_ip"] for w in workers} == {"127.0.0.1"}
    assert sum(w["done"] for w in workers) == 2
    assert all(w["pid"] and w["rss_bytes"] > 0 and w["device"]["type"] == "cpu" for w in workers)
    assert any(DEMO in w["models"] for w in workers)


def test_a_second_prompt_on_a_checkpoint_lands_on_the_worker_that_loaded_it(server):
    first = server.queue(txt2img("other.safetensors", seed=1))
    assert status_of(server.done(first))[0] == "success"
    holder = next(w for w in server.workers() if "other.safetensors" in w["models"])
    loads = {w["name"]: w["loads"] for w in server.workers()}
    for seed in (2, 3):
        pid = server.queue(txt2img("other.safetensors", seed=seed))
        assert status_of(server.done(pid))[0] == "success"
    after = {w["name"]: w for w in server.workers()}
    assert after[holder["name"]]["done"] == holder["done"] + 2
    assert {name: w["loads"] for name, w in after.items()} == loads  # no second load anywhere
    assert sum("other.safetensors" in w["models"] for w in after.values()) == 1


def test_one_clients_many_prompts_do_not_starve_anothers_one(server):
    many = [server.queue(slow_prompt(i, 60), client="greedy") for i in range(5)]
    time.sleep(0.5)
    one = server.queue(slow_prompt(100, 60), client="patient")
    entries = {pid: server.done(pid) for pid in [*many, one]}
    order = sorted(entries, key=lambda pid: finished_at(entries[pid]))
    # first come first served would finish it last; taking turns runs it when the first worker frees
    assert order.index(one) <= 3, order
    assert order[-1] != one


def test_a_model_no_worker_has_fails_validation_naming_it(server):
    code, body = server.call("POST", "/prompt", {"prompt": txt2img("nowhere.safetensors")}, expect_error=True)
    assert code == 400
    error = body["node_errors"]["1"]["errors"][0]
    assert "nowhere.safetensors" in error["details"] and "models/checkpoints" in error["details"]


def test_interrupt_stops_the_prompt_on_whichever_worker_runs_it(server):
    pid = server.queue(slow_prompt(1, 100000))
    server.running_on(pid)
    server.call("POST", "/interrupt", {"prompt_id": pid})
    entry = server.done(pid, timeout=60)
    assert status_of(entry) == ("error", ["execution_start", "execution_cached", "execution_interrupted"])


def test_a_killed_worker_costs_only_its_prompt_which_finishes_elsewhere(server):
    before = server.call("GET", "/history")
    pid = server.queue(slow_prompt(5, 3000))
    victim = server.running_on(pid)
    server.wait(lambda: server.workers() and any(w["prompt_id"] == pid for w in server.workers()))
    time.sleep(1.0)
    os.kill(victim["pid"], signal.SIGKILL)
    entry = server.done(pid)
    assert status_of(entry)[0] == "success"
    assert entry["outputs"]["3"]["text"] == ["5"]
    history = server.call("GET", "/history")
    assert set(before) <= set(history)  # nothing earlier was lost
    rows = {w["name"]: w for w in server.workers()}
    assert rows[victim["name"]]["lost"] == 1
    server.ready(2)  # Ray restarted the killed worker; it takes work again
    again = server.queue(slow_prompt(6, 5))
    assert status_of(server.done(again))[0] == "success"


def test_a_prompt_that_loses_two_workers_fails_with_the_reason(server):
    pid = server.queue(slow_prompt(7, 100000))
    for _ in range(2):
        victim = server.running_on(pid)
        time.sleep(0.5)
        os.kill(victim["pid"], signal.SIGKILL)
        server.wait(
            lambda victim=victim: all(w["pid"] != victim["pid"] or w["state"] != "busy" for w in server.workers()),
            what="the kill noticed",
        )
    entry = server.done(pid)
    state, messages = status_of(entry)
    assert state == "error" and messages == ["execution_error"]
    assert "lost to 2 dead workers" in entry["status"]["messages"][0][1]["exception_message"]
    server.ready(2)

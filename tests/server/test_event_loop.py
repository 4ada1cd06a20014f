"""Blocking work stays off the event loop: SQLite calls on the store's own thread (in order),
validation and folder listings on helper threads; the worker and the database live exactly as long
as the app (cleanup_ctx)."""

import asyncio
import sqlite3
import threading
import time

import pytest

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo
from nodeflow.server.keys import STORE, WORKER
from nodeflow.server.queue_store import QueueStore


class PickInput(Node):
    category = "test"
    output_node = True
    inputs = {"name": Combo(files="input")}
    outputs = {}

    def run(self, name):
        return NodeResult(ui={"text": [name]})


def _record_threads(monkeypatch, owner, names, calls):
    for name in names:
        original = getattr(owner, name)

        def recorded(*args, _original=original, _name=name, **kwargs):
            calls.append((_name, threading.current_thread()))
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, recorded)


async def test_store_calls_and_folder_listings_leave_the_loop(api, registry, monkeypatch):
    registry.add_class(PickInput, "test")
    (api.env.input_dir / "a.png").write_bytes(b"x")
    loop_thread = threading.current_thread()
    store_calls, listings = [], []
    _record_threads(monkeypatch, QueueStore, ["exists", "next_number", "add", "remaining", "history"], store_calls)
    _record_threads(monkeypatch, api.env, ["list_files"], listings)
    status, body = await api.queue({"1": {"class_type": "PickInput", "inputs": {"name": "a.png"}}})
    assert status == 200, body
    await api.wait_history(body["prompt_id"])
    assert (await api.client.get("/object_info")).status == 200
    assert (await api.client.get("/models/checkpoints")).status == 200

    handler_calls = [(n, t) for n, t in store_calls if not t.name.startswith("nodeflow-worker")]
    assert {n for n, _ in handler_calls} >= {"exists", "next_number", "add", "remaining", "history"}
    assert {t for _, t in handler_calls} == {handler_calls[0][1]}  # one thread: calls stay in order
    assert handler_calls[0][1].name.startswith("nodeflow-db")
    assert listings and all(t is not loop_thread for _, t in listings)


async def test_a_slow_database_call_does_not_stall_other_requests(api, monkeypatch):
    original = QueueStore.history

    def slow_history(self, *args, **kwargs):
        time.sleep(1.5)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QueueStore, "history", slow_history)
    started = time.monotonic()
    history = asyncio.ensure_future(api.client.get("/history"))
    await asyncio.sleep(0.1)
    features = await api.client.get("/features")
    assert features.status == 200 and time.monotonic() - started < 1.2  # answered while history sleeps
    assert (await history).status == 200 and time.monotonic() - started >= 1.5


async def test_the_worker_and_database_end_with_the_app(api):
    app = api.client.server.app
    worker, store = app[WORKER], app[STORE]
    assert worker._thread.is_alive()
    await api.client.close()
    assert not worker._thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError):  # the database closed with the app
        store.remaining()

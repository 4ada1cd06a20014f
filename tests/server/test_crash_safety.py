"""SIGKILL at random moments during a 50-prompt run: after restarts every prompt is in the
history (finished, or marked interrupted), every finished output is on disk, and SQLite's
integrity check passes."""

import random
import signal
import sqlite3
import time

import pytest

from tests.helpers.server_process import call, free_port, start, wait

pytestmark = pytest.mark.slow  # SIGKILLs and restarts a server process several times


def prompt(i):
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 16, "height": 16, "batch_size": 1, "color": i * 999}},
        "2": {"class_type": "Const", "inputs": {"value": i}},
        "3": {"class_type": "Slow", "inputs": {"value": ["2", 0], "steps": 3}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": f"crash/p{i}"}},
        "5": {"class_type": "Show", "inputs": {"value": ["3", 0]}},
    }


def test_random_sigkills_lose_nothing(tmp_path):
    rng = random.Random(7)
    port = free_port()
    proc = start(tmp_path, port)
    ids = [call(port, "POST", "/prompt", {"prompt": prompt(i)})["prompt_id"] for i in range(50)]
    for _ in range(3):  # kill mid-run at random moments, restart each time
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start(tmp_path, port)
    try:
        history = wait(lambda: (h := call(port, "GET", "/history")) and all(p in h for p in ids) and h, timeout=90)
        assert call(port, "GET", "/queue") == {"queue_running": [], "queue_pending": []}
        finished = 0
        for pid in ids:
            status = history[pid]["status"]
            if status["status_str"] == "success":
                finished += 1
                for image in history[pid]["outputs"]["4"]["images"]:
                    assert (tmp_path / "output" / image["subfolder"] / image["filename"]).exists()
            else:
                assert status["messages"][-1][0] == "execution_interrupted", status
        print(f"finished {finished}, interrupted {50 - finished}")
        assert finished >= 47  # at most one prompt per kill was running
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    with sqlite3.connect(tmp_path / "user" / "nodeflow.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

"""A real server process killed with SIGKILL mid-run: pending prompts resume in order after a
restart, the running one is in the history as interrupted, finished outputs stay listed."""

import signal
import time

import pytest

from tests.helpers.server_process import call, free_port, start, wait
from tests.helpers.toy_prompts import slow_prompt

pytestmark = pytest.mark.slow  # a server process killed and restarted


def test_sigkill_mid_run_loses_nothing(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    try:
        done = call(port, "POST", "/prompt", {"prompt": slow_prompt(1, 1)})["prompt_id"]
        wait(lambda: done in call(port, "GET", "/history"))
        running = call(port, "POST", "/prompt", {"prompt": slow_prompt(2, 100000)})["prompt_id"]
        pending = [call(port, "POST", "/prompt", {"prompt": slow_prompt(10 + i, 2)})["prompt_id"] for i in range(3)]
        wait(lambda: [q[1] for q in call(port, "GET", "/queue")["queue_running"]] == [running])
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    proc = start(tmp_path, port)
    try:
        history = wait(lambda: (h := call(port, "GET", "/history")) and all(p in h for p in pending) and h)
        assert history[done]["status"]["status_str"] == "success"
        assert history[done]["outputs"] == {"3": {"text": ["1"]}}
        lost = history[running]["status"]
        assert lost["status_str"] == "error" and lost["completed"] is False
        assert lost["messages"][0][0] == "execution_interrupted"
        order = [pid for pid in history if pid in pending]
        assert order == pending  # resumed in the order they were queued
        assert [history[p]["outputs"]["3"]["text"] for p in pending] == [["10"], ["11"], ["12"]]
        assert call(port, "GET", "/queue") == {"queue_running": [], "queue_pending": []}
    finally:
        proc.terminate()
        proc.wait(timeout=20)

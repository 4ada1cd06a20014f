"""A real server process killed with SIGKILL mid-run: pending prompts resume in order after a
restart, the running one is in the history as interrupted, finished outputs stay listed."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(base, port, custom_nodes=False, extra_args=()):
    flags = ([] if custom_nodes else ["--disable-custom-nodes"]) + list(extra_args)
    # The server's log goes to a file: an unread pipe fills up and blocks the server.
    with open(Path(base) / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--port",
                str(port),
                "--base-directory",
                str(base),
                *flags,
                "--extra-node-module",
                "tests.engine.toy_nodes",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    for _ in range(1200):  # up to 2 minutes: a busy machine starts slowly
        try:
            call(port, "GET", "/prompt")
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError((Path(base) / "server.log").read_text()[-2000:]) from None
            time.sleep(0.1)
    raise AssertionError("server did not start")


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def slow_prompt(value, steps):
    return {
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": steps}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


def wait(predicate, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


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

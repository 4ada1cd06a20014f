"""A real NodeFlow server (main.py in a child process) on a free port, and small blocking clients for
it: start and wait until it answers, JSON calls, waits on a condition, its log and its memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOY_NODES = ("--extra-node-module", "tests.engine.toy_nodes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(base: Path, port: int, flags: list, env: dict | None = None) -> subprocess.Popen:
    """main.py on ``port`` with ``base`` as its base directory; its log goes to ``base/server.log``
    (a file: an unread pipe fills up and blocks the server)."""
    with open(Path(base) / "server.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--port", str(port), "--base-directory", str(base), *flags],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, **env} if env else None,
        )


def start(base, port, custom_nodes=False, extra_args=()) -> subprocess.Popen:
    """A server with the toy test nodes, once it answers GET /prompt."""
    flags = ([] if custom_nodes else ["--disable-custom-nodes"]) + list(extra_args)
    proc = spawn(base, port, [*flags, *TOY_NODES])
    for _ in range(1200):  # up to 2 minutes: a busy machine starts slowly
        try:
            call(port, "GET", "/prompt")
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError((Path(base) / "server.log").read_text()[-2000:]) from None
            time.sleep(0.1)
    raise AssertionError("server did not start")


def request(port: int, method: str, path: str, body=None, timeout: float = 10):
    """An HTTP request with a JSON body (if any): the urllib response, to be closed by the caller."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    return urllib.request.urlopen(req, timeout=timeout)


def call(port, method, path, body=None, timeout: float = 10):
    """The JSON answer (None when empty); HTTP errors raise urllib.error.HTTPError."""
    with request(port, method, path, body, timeout) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def wait(predicate, timeout=30):
    """The first truthy value of ``predicate()``, polled every 0.1 s."""
    end = time.time() + timeout
    while time.time() < end:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    proc.terminate()
    proc.wait(timeout=timeout)


def rss_kb(pid: int) -> int:
    """Resident memory of process ``pid`` in kB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


class ServerProcess:
    """A running server and its base folder: JSON calls (errors as (status, body) on request), its log."""

    def __init__(self, base: Path, port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
        self.base, self.port, self.proc, self.timeout = base, port, proc, timeout
        self.log_path = Path(base) / "server.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body=None, raw: bool = False):
        """(status, JSON answer or bytes when ``raw``), HTTP errors included."""
        try:
            with request(self.port, method, path, body, self.timeout) as r:
                payload = r.read()
                return r.status, (payload if raw else (json.loads(payload) if payload else None))
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def call(self, method: str, path: str, body=None, expect_error: bool = False):
        """The JSON answer; an HTTP error raises, or is returned as (status, body) with ``expect_error``."""
        try:
            return call(self.port, method, path, body, self.timeout)
        except urllib.error.HTTPError as exc:
            if expect_error:
                return exc.code, json.loads(exc.read())
            raise

    def stop(self, timeout: float = 30) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

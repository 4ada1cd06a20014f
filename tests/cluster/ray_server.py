"""A real NodeFlow server started with ``--ray local:N`` (a real local Ray cluster with N workers),
and small clients for it: HTTP calls, a websocket listener per client id, waits."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: Path, extra_args: tuple = (), env: dict | None = None) -> None:
        self.base, self.port = base, free_port()
        self.log_path = base / "server.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "main.py"),
                    "--port",
                    str(self.port),
                    "--base-directory",
                    str(base),
                    "--disable-custom-nodes",
                    "--extra-node-module",
                    "tests.engine.toy_nodes",
                    *extra_args,
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, **(env or {})},
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def call(self, method: str, path: str, body=None, expect_error: bool = False):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if expect_error:
                return exc.code, json.loads(exc.read())
            raise

    def wait(self, predicate, timeout: float = 240.0, what: str = "condition"):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log()}")
            try:
                result = predicate()
            except OSError:
                result = None
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")

    def workers(self) -> list[dict]:
        return self.call("GET", "/nodeflow/workers")

    def ready(self, count: int) -> list[dict]:
        return self.wait(
            lambda: (w := self.workers()) and sum(x["state"] in ("idle", "busy") for x in w) >= count and w,
            what=f"{count} Ray workers",
        )

    def queue(self, prompt: dict, client: str = "tests", **extra) -> str:
        return self.call("POST", "/prompt", {"prompt": prompt, "client_id": client, **extra})["prompt_id"]

    def done(self, prompt_id: str, timeout: float = 240.0) -> dict:
        return self.wait(
            lambda: self.call("GET", f"/history/{prompt_id}").get(prompt_id),
            timeout,
            f"prompt {prompt_id} in the history",
        )

    def running_on(self, prompt_id: str) -> dict:
        return self.wait(
            lambda: next((w for w in self.workers() if w["prompt_id"] == prompt_id), None),
            what=f"prompt {prompt_id} running on a worker",
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Listener:
    """Collects the websocket messages one client id receives, in a thread of its own."""

    def __init__(self, port: int, client: str) -> None:
        self.port, self.client = port, client
        self.messages: list[dict] = []
        self.binary = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        assert self.connected.wait(30), "websocket did not connect"

    async def _run(self) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"http://127.0.0.1:{self.port}/ws?clientId={self.client}") as ws,
        ):
            self.connected.set()
            while not self._stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.messages.append(json.loads(msg.data))
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    self.binary += 1
                else:
                    return

    def of(self, kind: str) -> list[dict]:
        return [m["data"] for m in list(self.messages) if m["type"] == kind]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

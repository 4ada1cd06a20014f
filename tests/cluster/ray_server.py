"""A real NodeFlow server started with ``--ray local:N`` (a real local Ray cluster with N workers),
and small clients for it: HTTP calls, a websocket listener per client id, waits."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import aiohttp

from tests.helpers.server_process import TOY_NODES, ServerProcess, free_port, spawn


class Server(ServerProcess):
    """Started at once; callers wait for what they need (``ready``, ``done``...)."""

    def __init__(self, base: Path, extra_args: tuple = (), env: dict | None = None) -> None:
        port = free_port()
        super().__init__(base, port, spawn(base, port, ["--disable-custom-nodes", *TOY_NODES, *extra_args], env))

    def log(self) -> str:
        return super().log()[-4000:]

    def stop(self, timeout: float = 60) -> None:  # a Ray cluster takes a while to shut down
        super().stop(timeout)

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

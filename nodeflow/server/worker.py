"""The worker: one thread that takes prompts from the persistent queue, runs them on the
engine and records the outcome. It hands events to the event loop; it knows nothing of HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodeflow.engine.job import Job

from .queue_store import QueueStore

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        store: QueueStore,
        engine: Any,
        loop: asyncio.AbstractEventLoop,
        send: Callable[[str, dict, str | None], Any],
        watching: Callable[[str | None], bool] | None = None,
    ) -> None:
        self.store = store
        self.watching = watching  # (sid) -> whether a connected editor receives its events now
        self.engine = engine
        self.loop = loop
        self.send = send  # coroutine function (event, data, sid) run on the loop
        self.interrupt = threading.Event()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.running_id: str | None = None
        self.running_client: str | None = None  # client_id of the running prompt
        self._free_request: tuple[bool, bool] | None = None
        self.done = 0
        self._thread = threading.Thread(target=self._loop, name="nodeflow-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.interrupt.set()
        self.wake.set()
        self._thread.join(timeout=10)

    def notify(self) -> None:
        self.wake.set()

    def interrupt_prompt(self, prompt_id: str | None = None) -> bool:
        """Interrupt the running prompt (only if it is ``prompt_id``, when given)."""
        if self.running_id is None or (prompt_id and prompt_id != self.running_id):
            return False
        self.interrupt.set()
        return True

    def request_free(self, unload_models: bool, free_memory: bool) -> None:
        self._free_request = (unload_models, free_memory)
        self.wake.set()

    def _post(self, event: str, data: dict, sid: str | None) -> None:
        if not self.loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.send(event, data, sid), self.loop)

    def _status(self) -> None:
        self._post("status", {"status": {"exec_info": {"queue_remaining": self.store.remaining()}}}, None)

    def _loop(self) -> None:
        ran_since_idle = False
        while not self.stopping.is_set():
            if self._free_request is not None:
                unload, free = self._free_request
                self._free_request = None
                self.engine.free(unload_models=unload, free_memory=free)
            item = self.store.take_next()
            if item is None:
                if ran_since_idle:
                    ran_since_idle = False
                    self._idle()
                self.wake.wait(timeout=1.0)
                self.wake.clear()
                continue
            self._run(item)
            ran_since_idle = True

    def _idle(self) -> None:
        idle = getattr(self.engine, "idle", None)
        if idle is None:
            return
        try:
            idle()
        except Exception:  # e.g. out of memory copying mapped weights: they stay mapped, serving goes on
            log.exception("idle work failed")

    def _run(self, item) -> None:
        self.running_id, self.running_client = item.prompt_id, item.client_id
        self.interrupt.clear()
        self._status()
        sid = item.client_id

        def emit(event: str, data: dict) -> None:
            self._post(event, data, sid)

        job = Job(
            prompt_id=item.prompt_id,
            prompt=item.prompt,
            outputs_to_execute=item.outputs_to_execute,
            extra_data=item.extra_data,
            client_id=sid,
            previews_wanted=(lambda: self.watching(sid)) if self.watching is not None else None,
        )
        try:
            result = self.engine.execute(job, emit, self.interrupt)
            status = {
                "status_str": result.status_str,
                "completed": result.status == "success",
                "messages": result.messages,
            }
            outputs = result.outputs
        except Exception as exc:  # Engine.execute never raises; a different engine might: keep serving
            log.exception("engine failure on prompt %s", item.prompt_id)
            message = {
                "prompt_id": item.prompt_id,
                "node_id": None,
                "node_type": None,
                "executed": [],
                "exception_message": f"the engine failed outside any node: {exc}",
                "exception_type": type(exc).__name__,
                "traceback": [],
                "current_inputs": {},
                "current_outputs": [],
            }
            emit("execution_error", message)
            emit("executing", {"node": None, "display_node": None, "prompt_id": item.prompt_id})
            status = {"status_str": "error", "completed": False, "messages": [["execution_error", message]]}
            outputs = {}
        meta = {nid: {"node_id": nid, "display_node": nid} for nid in outputs}
        try:
            self.store.finish(item.prompt_id, status, outputs, meta)
        except Exception:  # e.g. disk full: the prompt stays 'running' and is recovered as interrupted
            log.exception("could not record the result of prompt %s", item.prompt_id)
        self.running_id = self.running_client = None
        self.done += 1
        self._status()

    def describe_workers(self) -> list[dict]:
        """GET /nodeflow/workers for the embedded worker: this process."""
        models = getattr(self.engine, "models", None)
        device = models.stats() if models is not None and hasattr(models, "stats") else {"name": "cpu", "type": "cpu"}
        loaded = sorted(
            {
                Path(str(key[1])).name
                for key in (models.cached_keys() if models is not None else [])
                if len(key) > 1 and isinstance(key[1], str)
            }
        )
        return [
            {
                "name": "local",
                "state": "busy" if self.running_id else "idle",
                "node_id": None,
                "node": socket.gethostname(),
                "node_ip": "127.0.0.1",
                "pid": os.getpid(),
                "device": device,
                "rss_bytes": rss_bytes(),
                "models": loaded,
                "loads": getattr(models, "loads", 0),
                "prompt_id": self.running_id,
                "running_seconds": None,
                "done": self.done,
                "lost": 0,
                "error": None,
            }
        ]


def rss_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0

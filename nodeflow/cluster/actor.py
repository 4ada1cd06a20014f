"""The Ray actor that runs prompts: a NodeFlow runtime of its own (registry, engine, model
manager, output cache) with private input/output/temp folders and the models of its node. The pool
(``pool.py``) makes it a Ray actor; this module imports Ray only to describe where it runs.

``run`` is a streaming generator: every engine event is yielded as it happens (``("event", type,
data)``), then one ``("result", result, files, description)`` with the output files for the head."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from nodeflow.server.worker import rss_bytes

from .identity import inventory, paths_to_identities
from .transfer import collect_outputs, place_inputs, snapshot

log = logging.getLogger(__name__)


class NodeFlowWorker:
    def __init__(self, settings: dict) -> None:
        # Ray starts workers at niceness 15; this one is the node's main work, as the embedded worker is
        with contextlib.suppress(OSError):  # not permitted here: keep Ray's
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        import torch

        from nodeflow.engine.job import Job
        from nodeflow.runtime import build_runtime
        from nodeflow.startup_gc import paused_then_frozen

        self._job_class = Job
        threads = settings.get("threads")
        if threads:
            torch.set_num_threads(max(1, int(threads)))
        base = settings.get("base_directory")
        self.private = Path(tempfile.mkdtemp(prefix="nodeflow-worker-"))
        with paused_then_frozen():  # a worker process's start-up: see nodeflow.startup_gc
            self.runtime = build_runtime(
                base if base and Path(base).is_dir() else None,
                cpu=settings.get("cpu", False),
                lowvram=settings.get("lowvram", False),
                plain_kernels=settings.get("plain_kernels", False),
                precision=settings.get("precision"),
                cache_ram_gb=settings.get("cache_ram_gb", 4.0),
                cache_enabled=settings.get("cache_enabled", True),
                extra_model_paths=settings.get("extra_model_paths"),
                custom_nodes=settings.get("custom_nodes", True),
                custom_node_whitelist=settings.get("custom_node_whitelist"),
                extra_node_modules=settings.get("extra_node_modules"),
                private_directory=self.private,
            )
        self.name = settings.get("name", "worker")
        self.interrupt_event = threading.Event()
        self.running: str | None = None
        # interrupts for a prompt the head has sent but whose ``run`` has not begun here yet (the head
        # marks the slot busy when it dispatches): applied when that prompt starts
        self._early_interrupts: collections.deque[str] = collections.deque(maxlen=32)
        self.done = 0
        self.started = time.time()
        self._shipped: list[Path] = []
        self._free_request: tuple[bool, bool] | None = None
        self._lock = threading.Lock()
        self.rescan()

    def rescan(self) -> dict[str, dict[str, str]]:
        """Read the model folders again (files added since start); returns the inventory."""
        self.inventory = inventory(self.runtime.env)
        self.path_ids = paths_to_identities(self.runtime.env, self.inventory)
        return self.inventory

    def _held(self) -> dict[str, str]:
        """{identity: file name} of the models in this worker's model manager."""
        models = self.runtime.models
        names = {ident: name for names in self.inventory.values() for name, ident in names.items()}
        held = {}
        for key in models.cached_keys() if models is not None else []:
            for part in key:
                ident = self.path_ids.get(part) if isinstance(part, str) else None
                if ident:
                    held[ident] = names.get(ident, part)
        return held

    def describe(self, with_inventory: bool = False) -> dict:
        import ray

        models = self.runtime.models
        ctx = ray.get_runtime_context()
        info = {
            "name": self.name,
            "node_id": ctx.get_node_id(),
            "node_ip": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "device": models.stats() if models is not None else {"name": "cpu", "type": "cpu"},
            "rss_bytes": rss_bytes(),
            "held": self._held(),
            "loads": getattr(models, "loads", 0),
            "running": self.running,
            "done": self.done,
            "up_seconds": round(time.time() - self.started, 1),
        }
        if with_inventory:
            info["inventory"] = self.inventory
        return info

    def interrupt(self, prompt_id: str | None = None) -> bool:
        with self._lock:
            if prompt_id and prompt_id != self.running:
                self._early_interrupts.append(prompt_id)
                return False
            if self.running is None:
                return False
            self.interrupt_event.set()
            return True

    def free(self, unload_models: bool, free_memory: bool) -> None:
        """As /free on one process; while a prompt runs it waits for the prompt's end."""
        with self._lock:
            if self.running is not None:
                self._free_request = (unload_models, free_memory)
                return
        self.runtime.engine.free(unload_models=unload_models, free_memory=free_memory)

    def run(self, job: dict, files: list) -> Iterator[tuple]:
        with self._lock:
            self.interrupt_event.clear()
            self.running = job["prompt_id"]
            if self.running in self._early_interrupts:
                self._early_interrupts.remove(self.running)
                self.interrupt_event.set()
        for path in self._shipped:  # the head has stored the previous prompt's files by now
            path.unlink(missing_ok=True)
        self._shipped = []
        env = self.runtime.env
        place_inputs(env, files)
        before = snapshot(env.output_dir)
        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                result = self.runtime.engine.execute(
                    self._job_class(**job), lambda e, d: events.put(("event", e, d)), self.interrupt_event
                )
                events.put(("done", result))
            except BaseException as exc:  # Engine.execute never raises; report instead of hanging
                events.put(("crash", exc))

        threading.Thread(target=work, name=f"nodeflow-run-{job['prompt_id'][:8]}", daemon=True).start()
        try:
            while True:
                item = events.get()
                if item[0] == "event":
                    yield item
                    continue
                if item[0] == "crash":
                    raise item[1]
                result = item[1]
                break
            files_back = collect_outputs(env, before, result.outputs)
            self._shipped = [env.directory(kind) / rel for kind, rel, _ in files_back if kind == "output"]
            self.done += 1
        finally:
            with self._lock:
                self.running = None
                request, self._free_request = self._free_request, None
            if request is not None:
                self.runtime.engine.free(unload_models=request[0], free_memory=request[1])
        yield ("result", asdict(result), files_back, self.describe())
        try:  # after the result went out: weights still viewed from their files' pages are copied in
            self.runtime.engine.idle()
        except Exception:
            log.exception("idle work failed")

    def close(self) -> None:
        shutil.rmtree(self.private, ignore_errors=True)

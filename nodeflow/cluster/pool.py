"""The head's side of the Ray pool: the same seam as ``nodeflow.server.worker.Worker`` (start, stop,
notify, interrupt_prompt, request_free, describe_workers), so the server does not know which runs.

One dispatcher thread matches free workers with queued prompts (``policy.choose``); one thread per
running prompt streams its events to the websocket hub and stores its result and files. A worker
that dies mid-prompt costs that prompt's progress only: it is re-queued once at its old place (a
second loss records it failed, with the reason); Ray restarts the actor, and workers on nodes that
join later are created as the nodes appear."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .needs import identities, needed_models
from .policy import Turn, Waiting, choose
from .transfer import prompt_inputs, store_outputs

log = logging.getLogger(__name__)
NODE_SCAN_SECONDS = 3.0
MAX_ATTEMPTS = 2  # runs a prompt may lose to dead workers; the second loss fails it


@dataclass
class PoolSettings:
    worker_cpus: float = 1.0
    max_workers: int | None = None
    affinity: bool = True
    max_wait: float = 300.0
    worker: dict = field(default_factory=dict)  # settings each NodeFlowWorker is built with
    owned_cluster: bool = False  # shut Ray down with the server


@dataclass
class Slot:
    name: str
    handle: Any
    node_id: str
    state: str = "starting"  # starting | idle | busy | restarting | dead
    pending: Any = None  # ObjectRef of describe() while starting/restarting
    info: dict = field(default_factory=dict)
    inventory: dict = field(default_factory=dict)
    held: frozenset = frozenset()
    prompt_id: str | None = None
    client: str | None = None
    started_at: float = 0.0
    lost: int = 0  # prompts lost to this worker dying
    error: str | None = None


class RayPool:
    def __init__(
        self,
        store: Any,
        loop: asyncio.AbstractEventLoop,
        send: Callable,
        registry: Any,
        env: Any,
        settings: PoolSettings,
    ) -> None:
        import ray

        self.ray = ray
        self.store, self.loop, self.send, self.registry, self.env = store, loop, send, registry, env
        self.settings = settings
        self.slots: list[Slot] = []
        self.nodes_seen: set[str] = set()
        self.last_served: dict[str | None, float] = {}
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._free_request: tuple[bool, bool] | None = None
        self._needs: dict[str, tuple[set, frozenset]] = {}  # prompt id -> (needed (kind, name), identities)
        self._offered: dict[str, dict[str, str]] = {}
        self._last_scan = 0.0
        self._thread = threading.Thread(target=self._loop, name="nodeflow-ray-dispatch", daemon=True)
        self._actor_class = ray.remote(max_concurrency=4, max_restarts=5)(_worker_class())
        self.running_id: str | None = None  # the prompt started last (ComfyUI's server.client_id reads these)
        self.running_client: str | None = None

    # the Worker seam -----------------------------------------------------------------------------
    def start(self) -> None:
        self._scan_nodes()
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self._thread.join(timeout=10)
        for slot in self.slots:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(slot.handle)
        if self.settings.owned_cluster:
            self.ray.shutdown()

    def notify(self) -> None:
        self.wake.set()

    def interrupt_prompt(self, prompt_id: str | None = None) -> bool:
        hit = False
        for slot in list(self.slots):
            if slot.state == "busy" and (prompt_id is None or slot.prompt_id == prompt_id):
                slot.handle.interrupt.remote(slot.prompt_id)
                hit = True
        return hit

    def request_free(self, unload_models: bool, free_memory: bool) -> None:
        for slot in self.slots:
            if slot.state in ("idle", "busy"):
                slot.handle.free.remote(unload_models, free_memory)

    def describe_workers(self) -> list[dict]:
        rows = []
        for slot in list(self.slots):
            info = slot.info
            held = info.get("held", {}) if slot.state != "restarting" else {}
            rows.append(
                {
                    "name": slot.name,
                    "state": slot.state,
                    "node_id": slot.node_id,
                    "node": info.get("hostname"),
                    "node_ip": info.get("node_ip"),
                    "pid": info.get("pid"),
                    "device": info.get("device", {}),
                    "rss_bytes": info.get("rss_bytes", 0),
                    "models": sorted(held.values()),
                    "loads": info.get("loads", 0),
                    "prompt_id": slot.prompt_id,
                    "running_seconds": round(time.time() - slot.started_at, 1) if slot.prompt_id else None,
                    "done": info.get("done", 0),
                    "lost": slot.lost,
                    "error": slot.error,
                }
            )
        return rows

    def check_models(self, prompt: dict) -> dict:
        """ComfyUI-shaped node_errors for model files no worker has (empty when all are there)."""
        offered = self._offered_models()
        _needed, missing = needed_models(self.registry, prompt, offered)
        errors: dict = {}
        for node_id, name, kind, value in missing:
            node = prompt.get(node_id) or {}
            detail = (
                f"no worker has {kind}/{value}: copy the file into models/{kind} on a worker node "
                f"(workers: {', '.join(s.name for s in self.slots if s.state != 'dead') or 'none yet'})"
            )
            entry = errors.setdefault(
                node_id, {"errors": [], "dependent_outputs": [], "class_type": node.get("class_type")}
            )
            entry["errors"].append(
                {
                    "type": "value_not_in_list",
                    "message": f"Model not on any worker: {value}",
                    "details": detail,
                    "extra_info": {"input_name": name, "input_config": None, "received_value": value},
                }
            )
        return errors

    # dispatcher ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                if time.time() - self._last_scan > NODE_SCAN_SECONDS:
                    self._scan_nodes()
                self._poll_slots()
                self._dispatch()
            except Exception:  # keep dispatching whatever one round hit
                log.exception("Ray pool dispatcher")
            self.wake.wait(timeout=0.25)
            self.wake.clear()

    def _capacity(self, node: dict) -> int:
        resources = node.get("Resources", {})
        if resources.get("GPU", 0) >= 1:
            return int(resources["GPU"])
        return int(resources.get("CPU", 0) // max(self.settings.worker_cpus, 1e-9))

    def _scan_nodes(self) -> None:
        """Create workers on nodes not seen before (at start, and when nodes join)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._last_scan = time.time()
        for node in self.ray.nodes():
            if not node.get("Alive") or node["NodeID"] in self.nodes_seen:
                continue
            self.nodes_seen.add(node["NodeID"])
            gpu = node.get("Resources", {}).get("GPU", 0) >= 1
            for _ in range(self._capacity(node)):
                if self.settings.max_workers is not None and len(self.slots) >= self.settings.max_workers:
                    return
                name = f"w{len(self.slots) + 1}"
                options = {
                    "num_cpus": 0 if gpu else self.settings.worker_cpus,
                    "num_gpus": 1 if gpu else 0,
                    "scheduling_strategy": NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
                }
                threads = max(1, int(self.settings.worker_cpus))
                handle = self._actor_class.options(**options).remote(
                    {**self.settings.worker, "name": name, "threads": threads}
                )
                slot = Slot(name=name, handle=handle, node_id=node["NodeID"])
                slot.pending = handle.describe.remote(True)
                self.slots.append(slot)
                log.info("Ray worker %s starting on node %s", name, node.get("NodeManagerAddress"))

    def _poll_slots(self) -> None:
        ray = self.ray
        for slot in self.slots:
            if slot.state not in ("starting", "restarting") or slot.pending is None:
                continue
            ready, _ = ray.wait([slot.pending], timeout=0)
            if not ready:
                continue
            try:
                info = ray.get(slot.pending)
            except ray.exceptions.ActorDiedError as exc:
                slot.state, slot.pending, slot.error = "dead", None, str(exc).splitlines()[0][:300]
                self._offered = {}
                log.error("Ray worker %s is gone: %s", slot.name, slot.error)
                continue
            except (ray.exceptions.ActorUnavailableError, ray.exceptions.RayActorError):  # restarting: ask again
                slot.pending = slot.handle.describe.remote(True)
                continue
            except ray.exceptions.RayTaskError as exc:  # the worker could not build its runtime
                slot.state, slot.pending, slot.error = "dead", None, str(exc)[-500:]
                log.error("Ray worker %s failed to start: %s", slot.name, slot.error)
                continue
            slot.pending = None
            self._update(slot, info)
            slot.state, slot.error = "idle", None
            log.info("Ray worker %s ready (pid %s on %s)", slot.name, info.get("pid"), info.get("hostname"))

    def _update(self, slot: Slot, info: dict) -> None:
        if "inventory" in info:
            slot.inventory = info.pop("inventory")
            self._offered = {}
        slot.info = info
        slot.held = frozenset(info.get("held", {}))

    def _offered_models(self) -> dict[str, dict[str, str]]:
        if not self._offered:
            merged: dict[str, dict[str, str]] = {}
            for slot in self.slots:
                if slot.state != "dead":
                    for kind, names in slot.inventory.items():
                        merged.setdefault(kind, {}).update(names)
            self._offered = merged
            self._needs.clear()
        return self._offered

    def _needs_of(self, prompt_id: str, prompt: dict) -> tuple[set, frozenset]:
        if prompt_id not in self._needs:
            offered = self._offered_models()
            needed, _missing = needed_models(self.registry, prompt, offered)
            self._needs[prompt_id] = (needed, identities(needed, offered))
        return self._needs[prompt_id]

    def _dispatch(self) -> None:
        idle = [s for s in self.slots if s.state == "idle"]
        pending = self.store.pending() if idle else []
        if not pending:
            return
        waiting = {}
        for item, queued_at in pending:
            _needed, models = self._needs_of(item.prompt_id, item.prompt)
            waiting[item.prompt_id] = Waiting(item.prompt_id, item.number, item.client_id, queued_at, models)
        # workers holding models a waiting prompt needs choose first, so that prompt loads nothing twice
        idle.sort(key=lambda s: -max(len(w.models & s.held) for w in waiting.values()))
        for slot in idle:
            usable = [w for w in waiting.values() if self._can_run(slot, w.prompt_id)]
            prompt_id = choose(
                self._turn(slot), usable, affinity=self.settings.affinity, max_wait=self.settings.max_wait
            )
            if prompt_id is None:
                continue
            waiting.pop(prompt_id)
            item = self.store.take(prompt_id)
            if item is not None:  # None: deleted meanwhile
                self._start(slot, item)

    def _turn(self, slot: Slot) -> Turn:
        running: dict[str | None, int] = {}
        holders: dict[str, int] = {}
        for other in self.slots:
            if other.state == "busy":
                running[other.client] = running.get(other.client, 0) + 1
            if other.state in ("idle", "busy"):
                for ident in other.held:
                    holders[ident] = holders.get(ident, 0) + 1
        return Turn(held=slot.held, running=running, last_served=self.last_served, holders=holders, now=time.time())

    def _can_run(self, slot: Slot, prompt_id: str) -> bool:
        needed, _ = self._needs[prompt_id]
        return all(name in slot.inventory.get(kind, {}) for kind, name in needed)

    # one running prompt ----------------------------------------------------------------------------
    def _start(self, slot: Slot, item: Any) -> None:
        slot.state, slot.prompt_id, slot.client, slot.started_at = "busy", item.prompt_id, item.client_id, time.time()
        self.last_served[item.client_id] = time.time()
        self.running_id, self.running_client = item.prompt_id, item.client_id
        self._status()
        threading.Thread(target=self._run, args=(slot, item), name=f"nodeflow-ray-{slot.name}", daemon=True).start()

    def _post(self, event: str, data: dict, sid: str | None) -> None:
        if not self.loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.send(event, data, sid), self.loop)

    def _status(self) -> None:
        self._post("status", {"status": {"exec_info": {"queue_remaining": self.store.remaining()}}}, None)

    def _run(self, slot: Slot, item: Any) -> None:
        ray = self.ray
        sid = item.client_id
        job = {
            "prompt_id": item.prompt_id,
            "prompt": item.prompt,
            "outputs_to_execute": item.outputs_to_execute,
            "extra_data": item.extra_data,
            "client_id": sid,
        }
        result = None
        last: list[tuple[str, dict]] = []  # the prompt's final events: sent once the history has it
        try:
            files = prompt_inputs(self.env, item.prompt)
            stream = slot.handle.run.options(num_returns="streaming").remote(job, files)
            for ref in stream:
                message = ray.get(ref)
                if message[0] == "event" and _final(message[1], message[2]):
                    last.append((message[1], message[2]))
                elif message[0] == "event":
                    self._post(message[1], message[2], sid)
                elif message[0] == "result":
                    result = message
        except ray.exceptions.RayActorError as exc:  # the worker process or its node died
            self._lost(slot, item, exc)
            return
        except Exception as exc:  # a failure outside the engine (a bug, an unpicklable value): keep serving
            log.exception("Ray worker %s failed on prompt %s", slot.name, item.prompt_id)
            self._finish_failed(slot, item, f"the worker failed outside any node: {exc}", type(exc).__name__)
            return
        _, outcome, files_back, info = result
        try:
            outputs = store_outputs(self.env, files_back, outcome["outputs"])
        except Exception as exc:  # e.g. disk full on the head
            log.exception("could not store the files of prompt %s", item.prompt_id)
            outputs = outcome["outputs"]
            outcome["messages"].append(
                [
                    "execution_error",
                    {"prompt_id": item.prompt_id, "exception_message": f"output files not stored: {exc}"},
                ]
            )
        status = {
            "status_str": "success" if outcome["status"] == "success" else "error",
            "completed": outcome["status"] == "success",
            "messages": outcome["messages"],
        }
        self._record(item.prompt_id, status, outputs)
        for event, data in last:
            self._post(event, data, sid)
        self._update(slot, info)
        self._release(slot)

    def _record(self, prompt_id: str, status: dict, outputs: dict) -> None:
        meta = {nid: {"node_id": nid, "display_node": nid} for nid in outputs}
        try:
            self.store.finish(prompt_id, status, outputs, meta)
        except Exception:  # the prompt stays 'running' and is recovered as interrupted on the next start
            log.exception("could not record the result of prompt %s", prompt_id)

    def _release(self, slot: Slot) -> None:
        slot.prompt_id = slot.client = None
        if slot.state == "busy":
            slot.state = "idle"
        self._status()
        self.wake.set()

    def _lost(self, slot: Slot, item: Any, exc: Exception) -> None:
        reason = str(exc).splitlines()[0][:300]
        slot.lost += 1
        slot.state, slot.held, slot.info = "restarting", frozenset(), {**slot.info, "held": {}}
        slot.pending = slot.handle.describe.remote(True)
        attempts = self.store.requeue(item.prompt_id)
        if attempts >= MAX_ATTEMPTS:
            taken = self.store.take(item.prompt_id)
            if taken is not None:
                self._finish_failed(
                    slot,
                    item,
                    f"the prompt was lost to {attempts} dead workers, the last one "
                    f"{slot.name} ({reason}); queue it again to retry",
                    "WorkerLost",
                )
                return
        else:
            log.warning(
                "Ray worker %s died running prompt %s (%s); the prompt is queued again",
                slot.name,
                item.prompt_id,
                reason,
            )
            self._post(
                "nodeflow.requeued",
                {"prompt_id": item.prompt_id, "worker": slot.name, "reason": reason},
                item.client_id,
            )
        self._release(slot)

    def _finish_failed(self, slot: Slot, item: Any, text: str, kind: str) -> None:
        message = {
            "prompt_id": item.prompt_id,
            "node_id": None,
            "node_type": None,
            "executed": [],
            "exception_message": text,
            "exception_type": kind,
            "traceback": [],
            "current_inputs": {},
            "current_outputs": [],
        }
        self._record(
            item.prompt_id, {"status_str": "error", "completed": False, "messages": [["execution_error", message]]}, {}
        )
        self._post("execution_error", message, item.client_id)
        self._post("executing", {"node": None, "display_node": None, "prompt_id": item.prompt_id}, item.client_id)
        self._release(slot)


def _final(event: str, data: dict) -> bool:
    return event in ("execution_success", "execution_error", "execution_interrupted") or (
        event == "executing" and data.get("node") is None
    )


def _worker_class():
    from .actor import NodeFlowWorker

    return NodeFlowWorker

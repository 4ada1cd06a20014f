"""The executor: runs a validated prompt node by node, serving unchanged nodes from the
output cache, emitting ComfyUI's websocket events, honouring interrupts.

Internally every output value is a list of items (ComfyUI list semantics): a plain node
produces ``[value]``; an OUTPUT_IS_LIST output produces many; a node whose inputs are lists
runs once per index unless it declares ``input_is_list``.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nodeflow.graph.validate import is_link, unwrap_literal
from nodeflow.schema.node import NodeResult
from nodeflow.schema.registry import Registry
from nodeflow.schema.spec import NodeSpec

from .context import ExecutionContext, Interrupted, running
from .job import Emit, Job, JobResult
from .output_cache import OutputCache
from .signature import NodeKeyError, cache_keys, needed_nodes


class NodeFailure(Exception):
    """A node raised; carries what execution_error reports."""

    def __init__(self, node_id: str, spec: NodeSpec, exc: BaseException, inputs: dict):
        super().__init__(str(exc))
        self.node_id, self.spec, self.exc, self.inputs = node_id, spec, exc, inputs


def _now() -> int:
    return int(time.time() * 1000)


def normalise_result(spec: NodeSpec, raw: Any) -> tuple[tuple, dict | None]:
    """Turn what a node returned into (outputs tuple, ui dict or None)."""
    ui = None
    if isinstance(raw, NodeResult):
        outputs, ui = raw.outputs, raw.ui
    elif isinstance(raw, dict) and ("ui" in raw or "result" in raw):
        outputs, ui = raw.get("result", ()), raw.get("ui")
    elif isinstance(raw, tuple):
        outputs = raw
    elif raw is None:
        outputs = ()
    else:
        outputs = (raw,)
    if not isinstance(outputs, (tuple, list)):
        outputs = (outputs,)
    outputs = tuple(outputs)
    if len(outputs) < len(spec.outputs):
        if len(outputs) == 0 and spec.output_node:
            outputs = (None,) * len(spec.outputs)
        else:
            raise TypeError(f"node {spec.name} returned {len(outputs)} values for {len(spec.outputs)} outputs")
    return outputs[: len(spec.outputs)], ui


def _merge_ui(into: dict | None, ui: dict | None) -> dict | None:
    if ui is None:
        return into
    if into is None:
        return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in ui.items()}
    for key, value in ui.items():
        if isinstance(value, (list, tuple)) and isinstance(into.get(key), list):
            into[key].extend(value)
        else:
            into[key] = value
    return into


def _describe(value: Any) -> Any:
    """A short JSON-safe description of an input value for error reports."""
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value if not isinstance(value, str) else value[:200]
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__}{tuple(shape)}"
    if isinstance(value, list):
        return [_describe(v) for v in value[:4]]
    return type(value).__name__


class Engine:
    """Runs prompts. Holds the output cache (shared across prompts) and the model manager."""

    def __init__(self, registry: Registry, env: Any, models: Any = None, cache_ram_gb: float = 4.0,
                 cache_enabled: bool = True) -> None:
        self.registry = registry
        self.env = env
        self.models = models
        self.cache = OutputCache(int(cache_ram_gb * 1024 ** 3) if cache_enabled else 0)

    def free(self, unload_models: bool = False, free_memory: bool = False) -> None:
        if free_memory or unload_models:
            self.cache.clear()
        if unload_models and self.models is not None and hasattr(self.models, "free"):
            self.models.free()

    # -- one prompt ---------------------------------------------------------------------
    def execute(self, job: Job, emit: Emit, interrupt: threading.Event) -> JobResult:
        """Run one prompt. Never raises: every prompt ends with execution_success,
        execution_error (naming the node) or execution_interrupted, then ``executing`` null."""
        run = PromptRun(job, {str(k): v for k, v in job.prompt.items()}, emit, interrupt)
        result = run.result
        try:
            run.record("execution_start", {"prompt_id": job.prompt_id, "timestamp": _now()})
            outputs = [str(o) for o in job.outputs_to_execute]
            graph = needed_nodes(run.prompt, outputs)
            order = list(nx.lexicographical_topological_sort(graph, key=lambda n: (len(n), n)))
            try:
                run.keys = cache_keys(self.registry, self.env, run.prompt, order, run.literals)
            except NodeKeyError as failed:
                raise NodeFailure(failed.node_id, self.registry.get(failed.class_type), failed.exc, {}) from failed
            cached = [nid for nid in order if run.keys[nid] in self.cache]
            run.record("execution_cached", {"nodes": cached, "prompt_id": job.prompt_id, "timestamp": _now()})
            result.cached = list(cached)
            self._run_all(run, outputs)
        except Interrupted:
            node_id = run.current or (result.executed[-1] if result.executed else None)
            result.status = "interrupted"
            result.error = {"prompt_id": job.prompt_id, "node_id": node_id,
                            "node_type": run.prompt.get(node_id, {}).get("class_type") if node_id else None,
                            "executed": list(result.executed), "timestamp": _now()}
            run.record("execution_interrupted", result.error)
        except Exception as exc:  # a node failed, or the engine itself did: report it on the node
            run.record("execution_error", _error_report(run, exc))
        else:
            run.record("execution_success", {"prompt_id": job.prompt_id, "timestamp": _now()})
        emit("executing", {"node": None, "display_node": None, "prompt_id": job.prompt_id})
        return result

    def _run_all(self, run: "PromptRun", outputs: list[str]) -> None:
        """Pull-based scheduling with an explicit stack (no recursion limit on long chains);
        lazy inputs are evaluated only when the node asks for them."""
        values, result, job = run.values, run.result, run.job
        stack = list(reversed(outputs))
        requested_lazy: dict[str, set[str]] = {}
        while stack:
            nid = stack[-1]
            if nid in values:
                stack.pop()
                continue
            if run.interrupt.is_set():
                run.current = nid
                raise Interrupted()
            node = run.prompt[nid]
            spec = self.registry.get(node["class_type"])
            hit = self.cache.get(run.keys[nid])
            if hit is not None:
                outs, ui = hit
                values[nid] = outs
                if ui is not None:
                    result.outputs[nid] = ui
                    run.emit("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": job.prompt_id})
                stack.pop()
                continue
            inputs = node.get("inputs") or {}
            lazy_names = {d.name for d in spec.inputs.values() if d.desc is not None and d.desc.lazy}
            wanted = requested_lazy.get(nid, set())
            missing = [str(v[0]) for name, v in inputs.items()
                       if is_link(v) and name in spec.inputs and (name not in lazy_names or name in wanted)
                       and str(v[0]) not in values]
            if missing:
                stack.extend(missing)
                continue
            if lazy_names and spec.check_lazy is not None:
                asked = self._ask_lazy(run, nid, spec, lazy_names - wanted)
                new = {n for n in asked if n in lazy_names and is_link(inputs.get(n))} - wanted
                if new:
                    requested_lazy[nid] = wanted | new
                    continue
            run.current = nid
            outs, ui = self._run_node(run, nid, spec, lazy_names - wanted)
            values[nid] = outs
            result.executed.append(nid)
            self.cache.put(run.keys[nid], (outs, ui))
            if ui is not None:
                result.outputs[nid] = ui
                run.emit("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": job.prompt_id})
            stack.pop()

    def _gather(self, run: "PromptRun", nid: str, spec: NodeSpec, skip: set[str]) -> dict[str, list]:
        """Every input as a list of items (links: the source's output list; literals as checked
        for the cache keys)."""
        inputs = run.prompt[nid].get("inputs") or {}
        literals = run.literals.get(nid, {})
        gathered: dict[str, list] = {}
        for decl in spec.inputs.values():
            if decl.section == "hidden":
                hidden = {"PROMPT": run.job.prompt, "EXTRA_PNGINFO": run.job.extra_data.get("extra_pnginfo"),
                          "UNIQUE_ID": nid, "DYNPROMPT": None}.get(decl.hidden)
                gathered[decl.name] = [hidden]
                continue
            if decl.name not in inputs:
                continue
            value = inputs[decl.name]
            if is_link(value):
                gathered[decl.name] = [None] if decl.name in skip else run.values[str(value[0])][value[1]]
            elif decl.name in literals:
                gathered[decl.name] = [literals[decl.name]]
            else:
                gathered[decl.name] = [spec.literal_value(decl, unwrap_literal(value), self.env)]
        return gathered

    def _instance(self, run: "PromptRun", nid: str, spec: NodeSpec) -> Any:
        obj = spec.make()
        try:
            obj.ctx = ExecutionContext(run.job.prompt_id, nid, run.emit, run.interrupt, env=self.env,
                                       models=self.models)
        except AttributeError:  # classes with __slots__ simply don't get a context
            pass
        return obj

    def _ask_lazy(self, run: "PromptRun", nid: str, spec: NodeSpec, unevaluated: set[str]) -> list[str]:
        kwargs: dict = {}
        try:
            gathered = self._gather(run, nid, spec, unevaluated)
            kwargs = {k: (v if spec.input_is_list else (v[0] if v else None)) for k, v in gathered.items()}
            asked = spec.check_lazy(self._instance(run, nid, spec), kwargs) or []
        except Exception as exc:
            raise NodeFailure(nid, spec, exc, kwargs) from exc
        return [asked] if isinstance(asked, str) else list(asked)

    def _run_node(self, run: "PromptRun", nid: str, spec: NodeSpec, skip: set[str]) -> tuple[list[list], dict | None]:
        run.emit("executing", {"node": nid, "display_node": nid, "prompt_id": run.job.prompt_id})
        try:
            gathered = self._gather(run, nid, spec, skip)
        except Exception as exc:  # a literal no longer valid (its file removed since validation)
            raise NodeFailure(nid, spec, exc, {}) from exc
        if spec.input_is_list:
            calls = [gathered]
        else:
            lengths = [len(v) for v in gathered.values()]
            count = 0 if any(n == 0 for n in lengths) else max(lengths, default=1)
            calls = [{k: v[min(i, len(v) - 1)] for k, v in gathered.items()} for i in range(count)]
        outs: list[list] = [[] for _ in spec.outputs]
        ui: dict | None = None
        for kwargs in calls:
            obj = self._instance(run, nid, spec)
            try:
                with running(getattr(obj, "ctx", None)):
                    raw = spec.call(obj, kwargs)
                produced, node_ui = normalise_result(spec, raw)
            except Interrupted:
                raise
            except Exception as exc:
                raise NodeFailure(nid, spec, exc, kwargs) from exc
            for slot, (out, value) in enumerate(zip(spec.outputs, produced)):
                if out.is_list and isinstance(value, (list, tuple)):
                    outs[slot].extend(value)
                else:
                    outs[slot].append(value)
            ui = _merge_ui(ui, node_ui)
        return outs, ui


@dataclass
class PromptRun:
    """The state of one prompt while it runs (kept off the shared Engine)."""

    job: Job
    prompt: dict  # node ids as strings
    emit: Emit
    interrupt: threading.Event
    result: JobResult = field(default_factory=lambda: JobResult(status="success"))
    keys: dict[str, str] = field(default_factory=dict)  # node id -> cache key
    literals: dict[str, dict] = field(default_factory=dict)  # node id -> literal inputs, checked once
    values: dict[str, list[list]] = field(default_factory=dict)  # node id -> output lists
    current: str | None = None  # the node running (or about to), for interrupts and engine errors

    def record(self, event: str, data: dict) -> None:
        """Emit an event that also goes into the history's messages."""
        self.result.messages.append([event, data])
        self.emit(event, data)


def _error_report(run: PromptRun, exc: BaseException) -> dict:
    """Set the run's result to error and return the execution_error payload, naming the failing
    node (or the node that was running when the engine itself failed)."""
    failure = exc if isinstance(exc, NodeFailure) else None
    node_id = failure.node_id if failure else run.current
    if failure is not None:
        exc = failure.exc
    node_type = failure.spec.name if failure and failure.spec else \
        (run.prompt.get(node_id, {}).get("class_type") if node_id else None)
    result = run.result
    result.status = "error"
    result.error = {
        "prompt_id": run.job.prompt_id, "node_id": node_id, "node_type": node_type,
        "executed": list(result.executed), "exception_message": f"{exc}" or type(exc).__name__,
        "exception_type": f"{type(exc).__module__}.{type(exc).__name__}".replace("builtins.", ""),
        "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__)[-12:],
        "current_inputs": {k: _describe(v) for k, v in (failure.inputs if failure else {}).items()},
        "current_outputs": sorted(run.values), "timestamp": _now(),
    }
    return result.error

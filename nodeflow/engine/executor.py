"""The executor: runs a validated prompt node by node, serving unchanged nodes from the
output cache, emitting ComfyUI's websocket events, honouring interrupts.

Internally every output value is a list of items (ComfyUI list semantics): a plain node
produces ``[value]``; an OUTPUT_IS_LIST output produces many; a node whose inputs are lists
runs once per index unless it declares ``input_is_list``. A node may expand into a subgraph
(engine/expansion.py) and may be ``async`` (awaited on this worker thread's event loop).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nodeflow.graph.prompt import is_link, unwrap_literal
from nodeflow.schema.registry import Registry
from nodeflow.schema.spec import NodeSpec

from .async_call import ThreadLoops
from .context import ExecutionContext, Interrupted, running
from .dynprompt import DynamicPrompt
from .errors import NodeFailure, blocked_report, error_report, now
from .expansion import ExpansionError, Pending, expand, prefix_scope
from .job import Emit, Job, JobResult
from .output_cache import OutputCache
from .results import ExecutionBlocker, Produced, add_items, blocker_in, merge_ui, normalise_result
from .signature import NodeKeyError, cache_keys, needed_nodes

# Hidden input kinds and where their value comes from; other kinds are not passed (as in ComfyUI).
_EXTRA_DATA_HIDDEN = {
    "EXTRA_PNGINFO": "extra_pnginfo",
    "AUTH_TOKEN_COMFY_ORG": "auth_token_comfy_org",
    "API_KEY_COMFY_ORG": "api_key_comfy_org",
}


class Engine:
    """Runs prompts. Holds the output cache (shared across prompts) and the model manager."""

    def __init__(
        self, registry: Registry, env: Any, models: Any = None, cache_ram_gb: float = 4.0, cache_enabled: bool = True
    ) -> None:
        self.registry = registry
        self.env = env
        self.models = models
        self.cache = OutputCache(int(cache_ram_gb * 1024**3) if cache_enabled else 0)
        self._loops = ThreadLoops()  # async nodes run on their worker thread's own event loop

    def idle(self) -> None:
        """The queue is empty: copy weights still viewed from their files' pages into memory
        (``mapped_weights``: a file changed on disk later cannot change or fault a loaded model)."""
        from nodeflow.models import mapped_weights

        mapped_weights.materialize()

    def free(self, unload_models: bool = False, free_memory: bool = False) -> None:
        if free_memory or unload_models:
            self.cache.clear()
        if unload_models and self.models is not None and hasattr(self.models, "free"):
            self.models.free()

    # -- one prompt ---------------------------------------------------------------------
    def execute(self, job: Job, emit: Emit, interrupt: threading.Event) -> JobResult:
        """Run one prompt. Never raises: every prompt ends with execution_success,
        execution_error (naming the node) or execution_interrupted, then ``executing`` null."""
        run = PromptRun(job, DynamicPrompt(job.prompt), emit, interrupt)
        result = run.result
        try:
            run.record("execution_start", {"prompt_id": job.prompt_id, "timestamp": now()})
            outputs = [str(o) for o in job.outputs_to_execute]
            graph = needed_nodes(run.prompt, outputs)
            order = list(nx.lexicographical_topological_sort(graph, key=lambda n: (len(n), n)))
            try:
                run.keys = cache_keys(self.registry, self.env, run.prompt, order, run.literals)
            except NodeKeyError as failed:
                raise NodeFailure(failed.node_id, self.registry.get(failed.class_type), failed.exc, {}) from failed
            cached = [nid for nid in order if run.keys[nid] in self.cache]
            run.record("execution_cached", {"nodes": cached, "prompt_id": job.prompt_id, "timestamp": now()})
            result.cached = list(cached)
            self._run_all(run, outputs)
        except Interrupted:
            node_id = run.current or (result.executed[-1] if result.executed else None)
            result.status = "interrupted"
            result.error = {
                "prompt_id": job.prompt_id,
                "node_id": node_id,
                "node_type": run.prompt.get(node_id, {}).get("class_type") if node_id else None,
                "executed": list(result.executed),
                "timestamp": now(),
            }
            run.record("execution_interrupted", result.error)
        except Exception as exc:  # a node failed, or the engine itself did: report it on the node
            run.record("execution_error", error_report(run, exc))
        else:
            run.record("execution_success", {"prompt_id": job.prompt_id, "timestamp": now()})
        emit("executing", {"node": None, "display_node": None, "prompt_id": job.prompt_id})
        return result

    def _run_all(self, run: PromptRun, outputs: list[str]) -> None:
        """Pull-based scheduling with an explicit stack (no recursion limit on long chains);
        lazy inputs are evaluated only when the node asks for them. A node that expanded stays
        on the stack until the outputs it links to have values."""
        values = run.values
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
            spec = self.registry.get(run.prompt[nid]["class_type"])
            pending = run.pending.get(nid)
            if pending is not None:
                missing = sorted(pending.sources() - values.keys())
                if missing:
                    stack.extend(missing)
                    continue
                self._finish(run, nid, pending.resolve(spec, values), pending.ui, store=True)
                del run.pending[nid]
                stack.pop()
                continue
            hit = self.cache.get(run.keys[nid])
            if hit is not None:
                self._finish(run, nid, *hit, store=False)
                stack.pop()
                continue
            inputs = run.prompt[nid].get("inputs") or {}
            lazy_names = {d.name for d in spec.inputs.values() if d.desc is not None and d.desc.lazy}
            wanted = requested_lazy.get(nid, set())
            waits = {
                d.name for d in spec.inputs.values() if d.desc is not None and (not d.desc.lazy or d.name in wanted)
            }
            missing = [
                str(v[0]) for name, v in inputs.items() if is_link(v) and name in waits and str(v[0]) not in values
            ]
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
            outcome = self._run_node(run, nid, spec, lazy_names - wanted)
            if isinstance(outcome, Pending):
                run.pending[nid] = outcome
                stack.extend(reversed(outcome.output_nodes))  # the expansion's output nodes run too
                continue
            self._finish(run, nid, *outcome, store=True)
            stack.pop()

    def _finish(self, run: PromptRun, nid: str, outs: list[list], ui: dict | None, store: bool) -> None:
        """A node's outputs are known (run, expanded and resolved, or from the cache)."""
        run.values[nid] = outs
        if store:
            run.result.executed.append(nid)
            self.cache.put(run.keys[nid], (outs, ui))
        if ui is not None:
            run.result.outputs[nid] = ui
            run.emit(
                "executed",
                {
                    "node": nid,
                    "display_node": run.prompt.get_display_node_id(nid),
                    "output": ui,
                    "prompt_id": run.job.prompt_id,
                },
            )

    def _gather(self, run: PromptRun, nid: str, spec: NodeSpec, skip: set[str]) -> dict[str, list]:
        """Every input as a list of items (links: the source's output list; literals as checked
        for the cache keys; rawLink inputs: the link itself)."""
        inputs = run.prompt[nid].get("inputs") or {}
        literals = run.literals.get(nid, {})
        extra = run.job.extra_data or {}
        hidden_values = {
            "PROMPT": run.job.prompt,
            "UNIQUE_ID": nid,
            "DYNPROMPT": run.prompt,
            **{kind: extra.get(key) for kind, key in _EXTRA_DATA_HIDDEN.items()},
        }
        gathered: dict[str, list] = {}
        for decl in spec.inputs.values():
            if decl.section == "hidden":
                if decl.hidden in hidden_values:  # kinds ComfyUI does not know are left out, as there
                    gathered[decl.name] = [hidden_values[decl.hidden]]
                continue
            if decl.name not in inputs:
                continue
            value = inputs[decl.name]
            if is_link(value):
                if decl.desc.raw_link:
                    gathered[decl.name] = [[str(value[0]), value[1]]]
                else:
                    gathered[decl.name] = [None] if decl.name in skip else run.values[str(value[0])][value[1]]
            elif decl.name in literals:
                gathered[decl.name] = [literals[decl.name]]
            else:
                gathered[decl.name] = [spec.literal_value(decl, unwrap_literal(value), self.env)]
        return gathered

    def _instance(self, run: PromptRun, nid: str, spec: NodeSpec) -> Any:
        obj = spec.make()
        with contextlib.suppress(AttributeError):  # classes with __slots__ simply don't get a context
            obj.ctx = ExecutionContext(
                run.job.prompt_id,
                nid,
                run.emit,
                run.interrupt,
                env=self.env,
                models=self.models,
                display_node=run.prompt.get_display_node_id(nid),
                previews_wanted=run.job.previews_wanted,
            )
        return obj

    def _ask_lazy(self, run: PromptRun, nid: str, spec: NodeSpec, unevaluated: set[str]) -> list[str]:
        kwargs: dict = {}
        try:
            gathered = self._gather(run, nid, spec, unevaluated)
            kwargs = {k: (v if spec.input_is_list else (v[0] if v else None)) for k, v in gathered.items()}
            obj = self._instance(run, nid, spec)
            with running(getattr(obj, "ctx", None)):
                asked = self._loops.run(spec.check_lazy(obj, kwargs)) or []
        except Interrupted:
            raise
        except Exception as exc:
            raise NodeFailure(nid, spec, exc, kwargs) from exc
        return [asked] if isinstance(asked, str) else list(asked)

    def _run_node(self, run: PromptRun, nid: str, spec: NodeSpec, skip: set[str]) -> tuple | Pending:
        """Run the node once per call (list semantics). Returns (outputs, ui), or a Pending when a
        call expanded into a subgraph."""
        run.emit(
            "executing",
            {"node": nid, "display_node": run.prompt.get_display_node_id(nid), "prompt_id": run.job.prompt_id},
        )
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
        done, ui = [], None
        for index, kwargs in enumerate(calls):
            block = blocker_in(kwargs, spec.input_is_list)
            if block is not None:
                done.append((self._blocked(run, nid, spec, block), False))
                continue
            obj = self._instance(run, nid, spec)
            try:
                with running(getattr(obj, "ctx", None)), prefix_scope(nid, index):
                    produced = normalise_result(spec, self._loops.run(spec.call(obj, kwargs)))
            except Interrupted:
                raise
            except Exception as exc:
                raise NodeFailure(nid, spec, exc, kwargs) from exc
            done.append((produced, produced.expand is not None))
            ui = merge_ui(ui, produced.ui)
        if not any(expanded for _, expanded in done):
            outs: list[list] = [[] for _ in spec.outputs]
            for produced, _ in done:
                for slot, (out, value) in enumerate(zip(spec.outputs, produced.outputs, strict=False)):
                    add_items(outs[slot], out.is_list, value)
            return outs, ui
        pending = Pending(done, ui)
        try:
            pending.output_nodes = expand(run, self.registry, self.env, nid, pending)
        except NodeKeyError as failed:
            raise NodeFailure(failed.node_id, self.registry.get(failed.class_type), failed.exc, {}) from failed
        except ExpansionError as exc:
            raise NodeFailure(nid, spec, exc, {}) from exc
        return pending

    def _blocked(self, run: PromptRun, nid: str, spec: NodeSpec, block: ExecutionBlocker):
        """A call whose inputs hold an ExecutionBlocker does not run; its outputs are the blocker.
        A blocker's message is reported once, on the first node it blocks (as ComfyUI does)."""
        if block.message is not None:
            run.record("execution_error", blocked_report(run, nid, spec, block.message))
            block = ExecutionBlocker(None)
        return Produced((block,) * len(spec.outputs))


@dataclass
class PromptRun:
    """The state of one prompt while it runs (kept off the shared Engine)."""

    job: Job
    prompt: DynamicPrompt  # the client's nodes plus those expansions add; node ids as strings
    emit: Emit
    interrupt: threading.Event
    result: JobResult = field(default_factory=lambda: JobResult(status="success"))
    keys: dict[str, str] = field(default_factory=dict)  # node id -> cache key
    literals: dict[str, dict] = field(default_factory=dict)  # node id -> literal inputs, checked once
    values: dict[str, list[list]] = field(default_factory=dict)  # node id -> output lists
    pending: dict[str, Pending] = field(default_factory=dict)  # node id -> its running expansion
    current: str | None = None  # the node running (or about to), for interrupts and engine errors

    def record(self, event: str, data: dict) -> None:
        """Emit an event that also goes into the history's messages."""
        self.result.messages.append([event, data])
        self.emit(event, data)

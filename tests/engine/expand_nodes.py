"""Native nodes that expand into subgraphs of toy nodes (GraphBuilder, as ComfyUI packs build them)."""

from __future__ import annotations

from nodeflow.comfy_compat import install
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo, Hidden, Int, Socket

install()
from comfy_execution.graph import ExecutionBlocker  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_execution.graph_utils import GraphBuilder  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path

from .toy_nodes import RUNS  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path


class CountUp(Node):
    """``start`` + ``steps``, as a chain of Add nodes."""

    category = "test"
    inputs = {"start": Socket("INT", raw_link=True), "steps": Int(default=2, min=0, max=50)}
    outputs = {"INT": Socket("INT")}

    def run(self, start, steps):
        RUNS.append("CountUp")
        graph = GraphBuilder()
        current = start
        for _ in range(steps):
            current = graph.node("Add", a=current, b=1).out(0)
        return NodeResult(outputs=(current,), expand=graph.finalize())


class CountTwice(Node):
    """Two nested CountUp expansions and a Show (an output node inside the expansion)."""

    category = "test"
    inputs = {"start": Socket("INT", raw_link=True), "steps": Int(default=1, min=0, max=50)}
    outputs = {"INT": Socket("INT"), "LABEL": Socket("STRING")}

    def run(self, start, steps):
        RUNS.append("CountTwice")
        graph = GraphBuilder()
        first = graph.node("CountUp", start=start, steps=steps)
        second = graph.node("CountUp", start=first.out(0), steps=steps)
        graph.node("Show", value=first.out(0), label="first=")
        return {"result": (second.out(0), "done"), "expand": graph.finalize()}


class BadExpand(Node):
    category = "test"
    inputs = {"mode": Combo(choices=["unknown", "self", "cycle", "missing", "result"]), "uid": Hidden("UNIQUE_ID")}
    outputs = {"INT": Socket("INT")}

    def run(self, mode, uid):
        graph = GraphBuilder()
        if mode == "unknown":
            out = graph.node("NoSuchNode").out(0)
        elif mode == "self":
            out = graph.node("Add", a=[uid, 0], b=1).out(0)
        elif mode == "cycle":
            a = graph.node("Add", id="a", b=1)
            b = graph.node("Add", id="b", a=a.out(0), b=1)
            a.set_input("a", b.out(0))
            out = b.out(0)
        elif mode == "missing":
            out = graph.node("Add", a=["nowhere", 0], b=1).out(0)
        else:
            out = ["nowhere", 0]
        return NodeResult(outputs=(out,), expand=graph.finalize())


class Block(Node):
    """Passes its value on, or an ExecutionBlocker (with ``message``, or silent when it is empty)."""

    category = "test"
    inputs = {"value": Socket("INT"), "open": Int(default=1, min=0, max=1), "message": Combo(choices=["", "stop"])}
    outputs = {"INT": Socket("INT")}

    def run(self, value, open, message):
        RUNS.append("Block")
        return value if open else ExecutionBlocker(message or None)


class PlusOne(Node):
    """value + 1 through a Const and an Add (one expansion per call over a list)."""

    category = "test"
    inputs = {"value": Socket("INT")}
    outputs = {"INT": Socket("INT")}

    def run(self, value):
        RUNS.append("PlusOne")
        graph = GraphBuilder()
        const = graph.node("Const", value=value)
        return NodeResult(outputs=(graph.node("Add", a=const.out(0), b=1).out(0),), expand=graph.finalize())

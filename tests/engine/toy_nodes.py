"""Cheap nodes for engine and validation tests. Each counts its runs in ``RUNS``."""

from __future__ import annotations

import time

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import AnyType, Boolean, Combo, Float, Hidden, Int, Output, Socket, String

RUNS: list[str] = []  # class names in execution order; tests clear it


class Const(Node):
    """An integer source."""

    category = "test"
    inputs = {"value": Int(default=1, min=-1000, max=1000)}
    outputs = {"INT": Socket("INT")}

    def run(self, value):
        RUNS.append("Const")
        return value


class Add(Node):
    category = "test"
    inputs = {"a": Socket("INT"), "b": Int(default=0, min=-1000, max=1000)}
    outputs = {"INT": Socket("INT")}

    def run(self, a, b):
        RUNS.append("Add")
        return a + b


class Scale(Node):
    category = "test"
    inputs = {
        "x": Socket("INT,FLOAT"),
        "factor": Float(default=1.0, min=0.0, max=10.0),
        "mode": Combo(choices=["floor", "round"], default="floor"),
    }
    outputs = {"FLOAT": Socket("FLOAT")}

    def run(self, x, factor, mode):
        RUNS.append("Scale")
        return x * factor


class Show(Node):
    """Output node: shows its value."""

    category = "test"
    output_node = True
    inputs = {"value": AnyType(), "label": String(default="", optional=True)}
    outputs = {}

    def run(self, value, label=""):
        RUNS.append("Show")
        return NodeResult(ui={"text": [f"{label}{value}"]})


class Fail(Node):
    category = "test"
    inputs = {"value": Socket("INT")}
    outputs = {"INT": Socket("INT")}

    def run(self, value):
        RUNS.append("Fail")
        raise ValueError("this node always fails")


class Slow(Node):
    """Reports progress every step; interruptible."""

    category = "test"
    inputs = {"value": Socket("INT"), "steps": Int(default=5, min=1, max=100000)}
    outputs = {"INT": Socket("INT")}

    def run(self, value, steps):
        RUNS.append("Slow")
        for i in range(steps):
            time.sleep(0.01)
            self.ctx.progress(i + 1, steps)
        return value


class Random(Node):
    deterministic = False
    category = "test"
    inputs = {}
    outputs = {"INT": Socket("INT")}

    def run(self):
        RUNS.append("Random")
        return 4


class Split(Node):
    """Produces a list output: 0..n-1."""

    category = "test"
    inputs = {"n": Int(default=3, min=0, max=100)}
    outputs = {"INT": Output("INT", is_list=True)}

    def run(self, n):
        RUNS.append("Split")
        return (list(range(n)),)


class Sum(Node):
    """Receives whole lists."""

    category = "test"
    input_is_list = True
    inputs = {"values": Socket("INT")}
    outputs = {"INT": Socket("INT")}

    def run(self, values):
        RUNS.append("Sum")
        return sum(values)


class Switch(Node):
    """Lazy inputs: only the chosen branch runs."""

    category = "test"
    inputs = {"pick_a": Boolean(default=True), "a": Socket("INT", lazy=True), "b": Socket("INT", lazy=True)}
    outputs = {"INT": Socket("INT")}

    def check_lazy(self, pick_a, a=None, b=None):
        return ["a"] if pick_a else ["b"]

    def run(self, pick_a, a=None, b=None):
        RUNS.append("Switch")
        return a if pick_a else b


class Checked(Node):
    category = "test"
    inputs = {"value": Int(default=2)}
    outputs = {"INT": Socket("INT")}

    @classmethod
    def validate(cls, env, value):
        return True if value % 2 == 0 else f"value must be even, got {value}"

    def run(self, value):
        return value


class WithPrompt(Node):
    category = "test"
    output_node = True
    inputs = {"value": Socket("INT"), "prompt": Hidden("PROMPT"), "uid": Hidden("UNIQUE_ID")}
    outputs = {}

    def run(self, value, prompt, uid):
        RUNS.append("WithPrompt")
        return NodeResult(ui={"text": [f"{uid}:{len(prompt)}"]})


class Previewer(Node):
    """Sends one preview image and one streamed text piece, then passes its input on."""

    category = "test"
    inputs = {"value": Socket("INT")}
    outputs = {"INT": Socket("INT")}

    def run(self, value):
        from PIL import Image as PILImage

        self.ctx.progress(1, 1, preview=PILImage.new("RGB", (8, 8), (255, 0, 0)))
        self.ctx.send_text("tok")
        return value


class TakesImage(Node):
    """An output node with a link-only IMAGE input."""

    category = "test"
    output_node = True
    inputs = {"image": Socket("IMAGE")}
    outputs = {}

    def run(self, image):
        return NodeResult(ui={"text": ["image"]})

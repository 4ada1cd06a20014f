"""The source of a ComfyUI V3-style pack (``comfy_entrypoint`` + ``io.ComfyNode``), written into
custom_nodes/ by the tests; and V3 re-declarations of ComfyUI core nodes whose /object_info entries
shared/reference/core_nodes_object_info.json holds (what ComfyUI shows for V3 nodes)."""

import json
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "core_nodes_object_info.json"  # a copy of shared/reference


def reference_info() -> dict:
    return json.loads(REFERENCE.read_text())


def pack_source() -> str:
    samplers = reference_info()["KSamplerSelect"]["input"]["required"]["sampler_name"][1]["options"]
    return SOURCE + f"\nSAMPLERS = {samplers!r}\n"


SOURCE = (
    '''
import asyncio
import threading

from comfy_api.latest import ComfyExtension, io, ui
from comfy_execution.graph_utils import GraphBuilder

CALLS = []
VERSIONS = {}  # name -> version, what fingerprint_inputs reports (a file's hash, in a real pack)


class V3Scale(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Scale", display_name="Scale (V3)", category="v3/test",
                         description="Multiply an image.",
                         inputs=[io.Image.Input("image"),
                                 io.Float.Input("factor", default=1.0, min=0.0, max=4.0, step=0.1, tooltip="how much")],
                         outputs=[io.Image.Output(display_name="scaled")])

    @classmethod
    def execute(cls, image, factor):
        CALLS.append(("V3Scale", factor))
        return io.NodeOutput(image * factor)


class V3AsyncAdd(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3AsyncAdd", category="v3/test", hidden=[io.Hidden.unique_id],
                         inputs=[io.Int.Input("a", default=0, min=-100, max=100),
                                 io.Int.Input("b", default=1, optional=True)],
                         outputs=[io.Int.Output(), io.String.Output(display_name="where")])

    @classmethod
    async def execute(cls, a, b=1):
        await asyncio.sleep(0.01)
        CALLS.append(("V3AsyncAdd", a))
        return io.NodeOutput(a + b, f"{threading.current_thread().name}:{cls.hidden.unique_id}")


class V3LazyPick(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3LazyPick", category="v3/test",
                         inputs=[io.Boolean.Input("use_a", default=True),
                                 io.String.Input("a", lazy=True, force_input=True),
                                 io.String.Input("b", lazy=True, force_input=True)],
                         outputs=[io.String.Output()])

    @classmethod
    async def check_lazy_status(cls, use_a, a=None, b=None):
        return ["a"] if use_a else ["b"]

    @classmethod
    def execute(cls, use_a, a=None, b=None):
        return io.NodeOutput(a if use_a else b)


class V3Boom(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Boom", category="v3/test", inputs=[io.String.Input("text", force_input=True)],
                         outputs=[io.String.Output()])

    @classmethod
    def execute(cls, text):
        CALLS.append(("V3Boom", text))
        raise RuntimeError("boom from a V3 node")


class V3Versioned(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Versioned", category="v3/test", inputs=[io.String.Input("name", default="x")],
                         outputs=[io.String.Output()])

    @classmethod
    def fingerprint_inputs(cls, name):
        return VERSIONS.get(name, 0)

    @classmethod
    def execute(cls, name):
        CALLS.append(("V3Versioned", name))
        return io.NodeOutput(f"{name}@{VERSIONS.get(name, 0)}")


class V3Even(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Even", category="v3/test",
                         inputs=[io.Int.Input("value", default=0, min=0, max=10)], outputs=[io.Int.Output()])

    @classmethod
    def validate_inputs(cls, value):
        return True if value % 2 == 0 else f"value must be even, got {value}"

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value)


class V3Show(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Show", category="v3/test", is_output_node=True,
                         inputs=[io.String.Input("text", force_input=True)])

    @classmethod
    def execute(cls, text):
        return io.NodeOutput(ui=ui.PreviewText(text))


class V3Preview(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Preview", category="v3/test", is_output_node=True,
                         inputs=[io.Image.Input("images")])

    @classmethod
    def execute(cls, images):
        return io.NodeOutput(ui=ui.PreviewImage(images, cls=cls))


class V3InvertTimes(io.ComfyNode):
    """Expands into a chain of core ImageInvert nodes."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3InvertTimes", category="v3/test", enable_expand=True,
                         inputs=[io.Image.Input("image", raw_link=True), io.Int.Input("times", default=1, min=0)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image, times):
        CALLS.append(("V3InvertTimes", times))
        graph = GraphBuilder()
        current = image
        for _ in range(times):
            current = graph.node("ImageInvert", image=current).out(0)
        return io.NodeOutput(current, expand=graph.finalize())


class V3Gate(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Gate", category="v3/test",
                         inputs=[io.Int.Input("value", force_input=True), io.Boolean.Input("open", default=True)],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value, open):
        return io.NodeOutput(value) if open else io.NodeOutput(block_execution="the gate is closed")


class V3Mapped(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Mapped", category="v3/test", inputs=[io.Int.Input("value")],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value * 10)


class Extension(ComfyExtension):
    async def on_load(self):
        CALLS.append(("on_load", None))

    async def get_node_list(self):
        return [V3Scale, V3AsyncAdd, V3LazyPick, V3Boom, V3Versioned, V3Even, V3Show, V3Preview, V3InvertTimes,
                V3Gate, *REFERENCE_NODES]


async def comfy_entrypoint():
    return Extension()


NODE_CLASS_MAPPINGS = {"V3Mapped": V3Mapped}
'''
    + """

def _reference(node_id, display_name, category, inputs, outputs):
    class Node(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="Ref" + node_id, display_name=display_name, category=category,
                             inputs=inputs(), outputs=outputs())
    Node.__name__ = "Ref" + node_id
    return Node


U64 = 0xffffffffffffffff
REFERENCE_NODES = [
    _reference("SolidMask", None, "mask", lambda: [
        io.Float.Input("value", default=1.0, min=0.0, max=1.0, step=0.01),
        io.Int.Input("width", default=512, min=1, max=16384, step=1),
        io.Int.Input("height", default=512, min=1, max=16384, step=1)], lambda: [io.Mask.Output()]),
    _reference("StringConcatenate", "Concatenate", "utils/string", lambda: [
        io.String.Input("string_a", multiline=True), io.String.Input("string_b", multiline=True),
        io.String.Input("delimiter", multiline=False, default="")], lambda: [io.String.Output()]),
    _reference("PrimitiveInt", "Int", "utils/primitive", lambda: [
        io.Int.Input("value", min=-9223372036854775807, max=9223372036854775807, control_after_generate=True)],
        lambda: [io.Int.Output()]),
    _reference("KSamplerSelect", None, "sampling/custom_sampling/samplers", lambda: [
        io.Combo.Input("sampler_name", options=SAMPLERS)], lambda: [io.Sampler.Output()]),
    _reference("SamplerCustom", None, "sampling/custom_sampling", lambda: [
        io.Model.Input("model"), io.Boolean.Input("add_noise", default=True),
        io.Int.Input("noise_seed", default=0, min=0, max=U64, control_after_generate=True),
        io.Float.Input("cfg", default=8.0, min=0.0, max=100.0, step=0.1, round=0.01),
        io.Conditioning.Input("positive"), io.Conditioning.Input("negative"), io.Sampler.Input("sampler"),
        io.Sigmas.Input("sigmas"), io.Latent.Input("latent_image")],
        lambda: [io.Latent.Output(display_name="output"), io.Latent.Output(display_name="denoised_output")]),
    _reference("ImageCompositeMasked", None, "image", lambda: [
        io.Image.Input("destination"), io.Image.Input("source"),
        io.Int.Input("x", default=0, min=0, max=16384, step=1), io.Int.Input("y", default=0, min=0, max=16384, step=1),
        io.Boolean.Input("resize_source", default=False), io.Mask.Input("mask", optional=True)],
        lambda: [io.Image.Output()]),
]
"""
)

"""The source of a ComfyUI V1 pack that leans on the engine the way popular packs do: node
expansion with GraphBuilder into core nodes (nested too), an async FUNCTION, the "any type" str
subclass, an unknown hidden kind, DYNPROMPT, ExecutionBlocker. Written into custom_nodes/ by tests."""

SOURCE = '''
import asyncio
import threading

from comfy_execution.graph import ExecutionBlocker
from comfy_execution.graph_utils import GraphBuilder, is_link

CALLS = []


class AnyType(str):
    """Equal to every type name (the trick packs use for pass-through sockets)."""

    def __ne__(self, other):
        return False


any_type = AnyType("*")


class BlendInverted:
    """Blend an image with its inverse `times` times, built from core nodes."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE", {"rawLink": True}),
                             "times": ("INT", {"default": 1, "min": 0, "max": 10}),
                             "factor": ("FLOAT", {"default": 0.25, "min": 0.0, "max": 1.0})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "expand"
    CATEGORY = "runtime/test"

    def expand(self, image, times, factor):
        CALLS.append(("BlendInverted", times, is_link(image)))
        graph = GraphBuilder()
        current = image
        for _ in range(times):
            inverted = graph.node("ImageInvert", image=current)
            blend = graph.node("ImageBlend", image1=current, image2=inverted.out(0), blend_factor=factor,
                               blend_mode="normal")
            current = blend.out(0)
        return {"result": (current,), "expand": graph.finalize()}


class TwiceBlended:
    """Expands into two BlendInverted nodes (which expand again) and a preview of the first."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE", {"rawLink": True}), "factor": ("FLOAT", {"default": 0.25})}}

    RETURN_TYPES = ("IMAGE", "STRING")
    FUNCTION = "expand"
    CATEGORY = "runtime/test"

    def expand(self, image, factor):
        CALLS.append(("TwiceBlended", factor))
        graph = GraphBuilder()
        first = graph.node("BlendInverted", image=image, times=1, factor=factor)
        second = graph.node("BlendInverted", image=first.out(0), times=1, factor=factor)
        graph.node("PreviewAny", source=first.out(0))
        info = graph.node("WhereAmI")
        return {"result": (second.out(0), info.out(0)), "expand": graph.finalize()}


class WhereAmI:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}, "hidden": {"uid": "UNIQUE_ID", "dyn": "DYNPROMPT", "prompt": "PROMPT"}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "where"
    CATEGORY = "runtime/test"

    def where(self, uid, dyn, prompt):
        real = dyn.get_real_node_id(uid)
        return (f"{uid}|{dyn.get_node(uid)['class_type']}|{real}|{dyn.get_node(real)['class_type']}|"
                f"{dyn.get_display_node_id(uid)}|{len(dyn.get_original_prompt()) == len(prompt)}",)


class AsyncDouble:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 1})}}

    RETURN_TYPES = ("INT", "STRING")
    FUNCTION = "run"
    CATEGORY = "runtime/test"

    async def run(self, value):
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        CALLS.append(("AsyncDouble", value, threading.current_thread().name, id(loop)))
        return (value * 2, threading.current_thread().name)


class Passthrough:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"anything": (any_type, {})}}

    RETURN_TYPES = (any_type,)
    RETURN_NAMES = ("same",)
    FUNCTION = "run"
    CATEGORY = "runtime/test"

    def run(self, anything):
        return (anything,)


class OddHidden:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 3})},
                "hidden": {"uid": "UNIQUE_ID", "mystery": "SOME_FUTURE_KIND"}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"
    CATEGORY = "runtime/test"

    def run(self, value, uid):  # no `mystery` parameter: ComfyUI does not pass kinds it does not know
        return (f"{uid}:{value}",)


class Gate:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": (any_type, {}), "open": ("BOOLEAN", {"default": True}),
                             "message": ("STRING", {"default": ""})}}

    RETURN_TYPES = (any_type,)
    FUNCTION = "run"
    CATEGORY = "runtime/test"

    def run(self, value, open, message):
        CALLS.append(("Gate", open))
        return (value if open else ExecutionBlocker(message or None),)


PROBES = {}


class Probe:
    """Keeps what it receives in PROBES (the tests read real values there)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": (any_type, {}), "label": ("STRING", {"default": "x"})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = "runtime/test"

    def run(self, value, label):
        PROBES[label] = value
        return {"ui": {"text": [label]}}


NODE_CLASS_MAPPINGS = {"Probe": Probe, "BlendInverted": BlendInverted, "TwiceBlended": TwiceBlended, "WhereAmI": WhereAmI,
                       "AsyncDouble": AsyncDouble, "Passthrough": Passthrough, "OddHidden": OddHidden, "Gate": Gate}
'''

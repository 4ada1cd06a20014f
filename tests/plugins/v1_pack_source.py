"""The source of a ComfyUI V1-style pack, written into custom_nodes/ by the tests. It uses every
V1 feature NodeFlow supports and depends only on torch and the core types."""

SOURCE = '''
import torch

CALLS = []


class V1Invert:
    """Invert with a strength."""
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.1,
                                                    "round": 0.01, "tooltip": "how much"}),
                             "note": ("STRING", {"default": "hi", "multiline": True}),
                             "mode": (["full", "half"], {"default": "full"})},
                "optional": {"mask": ("MASK",), "forced": ("INT", {"default": 3, "forceInput": True})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO", "uid": "UNIQUE_ID"}}

    RETURN_TYPES = ("IMAGE", "STRING")
    RETURN_NAMES = ("inverted", "info")
    OUTPUT_TOOLTIPS = ("the result", "what happened")
    FUNCTION = "go"
    CATEGORY = "v1/test"
    DESCRIPTION = "A V1 node."

    def go(self, image, strength, note, mode, mask=None, forced=None, prompt=None, extra_pnginfo=None, uid=None):
        CALLS.append(("V1Invert", uid))
        factor = strength if mode == "full" else strength / 2
        out = image * (1 - factor) + (1 - image) * factor
        return (out, f"{uid}:{len(prompt)}:{note}")

    @classmethod
    def VALIDATE_INPUTS(cls, note):
        return True if note != "bad" else "note must not be 'bad'"


class V1Show:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"forceInput": True})}}

    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True
    CATEGORY = "v1/test"

    def show(self, text):
        return {"ui": {"text": [text]}}


class V1Listy:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"count": ("INT", {"default": 3, "min": 0, "max": 10})}}

    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "make"
    CATEGORY = "v1/test"

    def make(self, count):
        return (list(range(count)),)


class V1Sum:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"values": ("INT", {"forceInput": True})}}

    INPUT_IS_LIST = True
    RETURN_TYPES = ("STRING",)
    FUNCTION = "total"
    CATEGORY = "v1/test"

    def total(self, values):
        return {"ui": {"text": [str(sum(values))]}, "result": (str(sum(values)),)}


class V1Changing:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seed": ("INT", {"default": 0, "control_after_generate": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = "v1/test"

    @classmethod
    def IS_CHANGED(cls, seed):
        return float("nan")

    def run(self, seed):
        CALLS.append(("V1Changing", seed))
        return (seed,)


class V1Lazy:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"use_a": ("BOOLEAN", {"default": True}),
                             "a": ("STRING", {"lazy": True, "forceInput": True}),
                             "b": ("STRING", {"lazy": True, "forceInput": True})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "pick"
    CATEGORY = "v1/test"

    def check_lazy_status(self, use_a, a=None, b=None):
        return ["a"] if use_a else ["b"]

    def pick(self, use_a, a=None, b=None):
        return (a if use_a else b,)


class V1Boom:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"forceInput": True})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "boom"
    CATEGORY = "v1/test"

    def boom(self, text):
        CALLS.append(("V1Boom", text))
        raise RuntimeError("boom from a plugin")


NODE_CLASS_MAPPINGS = {"V1Invert": V1Invert, "V1Show": V1Show, "V1Listy": V1Listy, "V1Sum": V1Sum,
                       "V1Changing": V1Changing, "V1Lazy": V1Lazy, "V1Boom": V1Boom}
NODE_DISPLAY_NAME_MAPPINGS = {"V1Invert": "Invert (V1)"}
WEB_DIRECTORY = "./js"
'''

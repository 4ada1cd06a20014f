"""DualCLIPLoader and TripleCLIPLoader: text towers from separate files (models/text_encoders or
models/clip) joined into one CLIP of a family: sd3 (clip_l, clip_g, t5xxl in any combination), flux
(clip_l + t5xxl), sdxl (clip_l + clip_g). Each file is recognised by its shapes."""

from __future__ import annotations

from nodeflow.schema.node import Node
from nodeflow.schema.types import Clip, Combo

from .model_files import load_text_encoders, model_fingerprint

DUAL_TYPES = [
    "sdxl",
    "sd3",
    "flux",
    "hunyuan_video",
    "hidream",
    "hunyuan_image",
    "hunyuan_video_15",
    "kandinsky5",
    "kandinsky5_image",
    "ltxv",
    "newbie",
]
SUPPORTED = ("sdxl", "sd3", "flux")


def _check_type(clip_type: str):
    if clip_type not in SUPPORTED:
        return f"type {clip_type!r} is not supported by NodeFlow yet; use one of {', '.join(SUPPORTED)}"
    return True


class DualCLIPLoader(Node):
    """Two text encoders as one CLIP: clip_l + clip_g (sdxl, sd3) or clip_l + t5xxl (flux, sd3)."""

    category = "advanced/loaders"
    inputs = {
        "clip_name1": Combo(files="text_encoders"),
        "clip_name2": Combo(files="text_encoders"),
        "type": Combo(choices=DUAL_TYPES),
        "device": Combo(choices=["default", "cpu"], optional=True, extra={"advanced": True}),
    }
    outputs = {"CLIP": Clip()}

    @classmethod
    def fingerprint(cls, env, clip_name1, clip_name2, type, device="default"):
        return (
            model_fingerprint(env, "text_encoders", clip_name1)
            + model_fingerprint(env, "text_encoders", clip_name2)
            + type
        )

    @classmethod
    def validate(cls, env, clip_name1, clip_name2, type, device="default"):
        return _check_type(type)

    def run(self, clip_name1, clip_name2, type, device="default"):
        return load_text_encoders(self.ctx, [clip_name1, clip_name2], type)


class TripleCLIPLoader(Node):
    """SD3's three text encoders (clip_l, clip_g, t5xxl) as one CLIP."""

    category = "advanced/loaders"
    inputs = {
        "clip_name1": Combo(files="text_encoders"),
        "clip_name2": Combo(files="text_encoders"),
        "clip_name3": Combo(files="text_encoders"),
    }
    outputs = {"CLIP": Clip()}

    @classmethod
    def fingerprint(cls, env, clip_name1, clip_name2, clip_name3):
        return "".join(model_fingerprint(env, "text_encoders", n) for n in (clip_name1, clip_name2, clip_name3))

    def run(self, clip_name1, clip_name2, clip_name3):
        return load_text_encoders(self.ctx, [clip_name1, clip_name2, clip_name3], "sd3")

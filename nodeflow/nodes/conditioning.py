"""Text encoding and conditioning arithmetic. CONDITIONING is a list of [tensor [B,T,D], options]."""

from __future__ import annotations

import torch

from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Clip, Conditioning, Float, Int, String

from .model_files import find_embedding


def encode_text(ctx, clip, text: str, **extra) -> list:
    if clip is None:
        raise ValueError("clip input is empty: the checkpoint has no text encoder; load one with Load CLIP")
    cond, pooled, options = clip.encode(text, find_embedding=find_embedding(ctx))
    return [[cond, {"pooled_output": pooled, **options, **extra}]]


class CLIPTextEncode(Node):
    """Encode a prompt with CLIP. Weights: (word:1.2), (word) = x1.1, [word] = /1.1, \\( for a
    literal bracket; embedding:name uses a textual inversion from models/embeddings; prompts over
    75 tokens are encoded in chunks and concatenated."""

    display_name = "CLIP Text Encode (Prompt)"
    category = "conditioning"
    inputs = {
        "text": String(default=None, multiline=True, dynamic_prompts=True, tooltip="The text to be encoded."),
        "clip": Clip(tooltip="The CLIP model used for encoding the text."),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, text, clip):
        return encode_text(self.ctx, clip, text)


class CLIPSetLastLayer(Node):
    """Clip skip: use an earlier layer of the text encoder (-2 = the one before last)."""

    display_name = "CLIP Set Last Layer"
    category = "conditioning"
    inputs = {"clip": Clip(), "stop_at_clip_layer": Int(default=-1, min=-24, max=-1, step=1)}
    outputs = {"CLIP": Clip()}

    def run(self, clip, stop_at_clip_layer):
        clip = clip.clone()
        clip.set_last_layer(stop_at_clip_layer)
        return clip


class CLIPTextEncodeSDXL(Node):
    """SDXL text encoding with the size and crop conditioning the base model was trained with."""

    category = "advanced/conditioning"
    inputs = {
        "clip": Clip(),
        "width": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "height": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "crop_w": Int(default=0, min=0, max=MAX_RESOLUTION),
        "crop_h": Int(default=0, min=0, max=MAX_RESOLUTION),
        "target_width": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "target_height": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "text_g": String(multiline=True, dynamic_prompts=True),
        "text_l": String(multiline=True, dynamic_prompts=True),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, clip, width, height, crop_w, crop_h, target_width, target_height, text_g, text_l):
        extra = {
            "width": width,
            "height": height,
            "crop_w": crop_w,
            "crop_h": crop_h,
            "target_width": target_width,
            "target_height": target_height,
        }
        if text_g == text_l or len(clip.encoders) < 2:
            return encode_text(self.ctx, clip, text_g, **extra)
        finder = find_embedding(self.ctx)
        parts, pooled = [], None
        for enc, text in zip(clip.encoders, (text_l, text_g), strict=False):
            single = clip.clone()
            single.encoders = [e for e in single.encoders if e.name == enc.name]
            cond, p, _ = single.encode(text, find_embedding=finder)
            parts.append(cond)
            pooled = p if enc.name == clip.pooled_from else pooled
        length = max(p.shape[1] for p in parts)
        parts = [p.repeat(1, length // p.shape[1], 1) if p.shape[1] != length else p for p in parts]
        return [[torch.cat(parts, dim=-1), {"pooled_output": pooled, **extra}]]


class CLIPTextEncodeSDXLRefiner(Node):
    """SDXL refiner text encoding with its aesthetic score and size conditioning."""

    category = "advanced/conditioning"
    inputs = {
        "ascore": Float(default=6.0, min=0.0, max=1000.0, step=0.01),
        "width": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "height": Int(default=1024, min=0, max=MAX_RESOLUTION),
        "text": String(multiline=True, dynamic_prompts=True),
        "clip": Clip(),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, ascore, width, height, text, clip):
        return encode_text(self.ctx, clip, text, aesthetic_score=ascore, width=width, height=height)


class ConditioningCombine(Node):
    """Both conditionings apply: their predictions are averaged (by area and strength)."""

    display_name = "Conditioning (Combine)"
    category = "conditioning"
    inputs = {"conditioning_1": Conditioning(), "conditioning_2": Conditioning()}
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning_1, conditioning_2):
        return conditioning_1 + conditioning_2


class ConditioningSetArea(Node):
    """Limit a conditioning to a rectangle of the image (pixels; multiples of 8)."""

    display_name = "Conditioning (Set Area)"
    category = "conditioning"
    inputs = {
        "conditioning": Conditioning(),
        "width": Int(default=64, min=64, max=MAX_RESOLUTION, step=8),
        "height": Int(default=64, min=64, max=MAX_RESOLUTION, step=8),
        "x": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "y": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "strength": Float(default=1.0, min=0.0, max=10.0, step=0.01),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning, width, height, x, y, strength):
        area = (height // 8, width // 8, y // 8, x // 8)
        return [[c, {**o, "area": area, "strength": strength, "set_area_to_bounds": False}] for c, o in conditioning]


class ConditioningConcat(Node):
    """Append conditioning_from's tokens to each of conditioning_to's (longer context)."""

    display_name = "Conditioning (Concat)"
    category = "conditioning"
    inputs = {"conditioning_to": Conditioning(), "conditioning_from": Conditioning()}
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning_to, conditioning_from):
        source = conditioning_from[0][0]
        return [[torch.cat([c, source.to(c)], dim=1), dict(o)] for c, o in conditioning_to]


class ConditioningAverage(Node):
    """Blend two conditionings: to * strength + from * (1 - strength) (tokens padded/cut to match)."""

    category = "conditioning"
    inputs = {
        "conditioning_to": Conditioning(),
        "conditioning_from": Conditioning(),
        "conditioning_to_strength": Float(default=1.0, min=0.0, max=1.0, step=0.01),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning_to, conditioning_from, conditioning_to_strength):
        source = conditioning_from[0][0]
        source_pooled = conditioning_from[0][1].get("pooled_output")
        w = conditioning_to_strength
        out = []
        for c, o in conditioning_to:
            s = source[:, : c.shape[1]]
            if s.shape[1] < c.shape[1]:
                s = torch.cat([s, torch.zeros(s.shape[0], c.shape[1] - s.shape[1], s.shape[2])], dim=1)
            options = dict(o)
            if o.get("pooled_output") is not None and source_pooled is not None:
                options["pooled_output"] = o["pooled_output"] * w + source_pooled * (1 - w)
            out.append([c * w + s.to(c) * (1 - w), options])
        return out


class ConditioningZeroOut(Node):
    """A conditioning of zeros with the same shape (SDXL-turbo style empty negative)."""

    category = "advanced/conditioning"
    inputs = {"conditioning": Conditioning()}
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning):
        out = []
        for c, o in conditioning:
            options = dict(o)
            if o.get("pooled_output") is not None:
                options["pooled_output"] = torch.zeros_like(o["pooled_output"])
            out.append([torch.zeros_like(c), options])
        return out


class ConditioningSetTimestepRange(Node):
    """Apply a conditioning only between two points of the sampling run (0 = first step, 1 = last)."""

    category = "advanced/conditioning"
    inputs = {
        "conditioning": Conditioning(),
        "start": Float(default=0.0, min=0.0, max=1.0, step=0.001),
        "end": Float(default=1.0, min=0.0, max=1.0, step=0.001),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning, start, end):
        return [[c, {**o, "start_percent": start, "end_percent": end}] for c, o in conditioning]

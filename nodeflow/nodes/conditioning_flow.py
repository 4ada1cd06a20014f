"""Text encoding and conditioning for SD3 and Flux (ComfyUI's CLIPTextEncodeSD3, CLIPTextEncodeFlux,
FluxGuidance) and their empty latent (EmptySD3LatentImage, 16 channels, also Flux's)."""

from __future__ import annotations

import torch

from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Clip, Combo, Conditioning, Float, Int, Latent, String

from .model_files import find_embedding


def _encode(ctx, clip, texts: dict, **options) -> list:
    if clip is None:
        raise ValueError("clip input is empty: load the text encoders with DualCLIPLoader / TripleCLIPLoader")
    cond, pooled = clip.encode_towers(texts, find_embedding=find_embedding(ctx))
    return [[cond, {"pooled_output": pooled, **options}]]


class CLIPTextEncodeSD3(Node):
    """SD3 text encoding with a prompt per tower (CLIP-L, CLIP-G, T5-XXL). empty_padding "none"
    leaves out towers whose prompt is empty (the CLIP pair only when both are empty)."""

    category = "advanced/conditioning"
    inputs = {
        "clip": Clip(),
        "clip_l": String(multiline=True, dynamic_prompts=True),
        "clip_g": String(multiline=True, dynamic_prompts=True),
        "t5xxl": String(multiline=True, dynamic_prompts=True),
        "empty_padding": Combo(choices=["none", "empty_prompt"]),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, clip, clip_l, clip_g, t5xxl, empty_padding):
        texts = {"clip_l": clip_l, "clip_g": clip_g, "t5xxl": t5xxl}
        if empty_padding == "none":
            if not clip_l and not clip_g:
                texts["clip_l"] = texts["clip_g"] = None
            if not t5xxl:
                texts["t5xxl"] = None
        return _encode(self.ctx, clip, texts)


class CLIPTextEncodeFlux(Node):
    """Flux text encoding: a CLIP-L prompt (pooled vector), a T5-XXL prompt and the distilled guidance."""

    category = "advanced/conditioning/flux"
    inputs = {
        "clip": Clip(),
        "clip_l": String(multiline=True, dynamic_prompts=True),
        "t5xxl": String(multiline=True, dynamic_prompts=True),
        "guidance": Float(default=3.5, min=0.0, max=100.0, step=0.1),
    }
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, clip, clip_l, t5xxl, guidance):
        return _encode(self.ctx, clip, {"clip_l": clip_l, "t5xxl": t5xxl}, guidance=guidance)


class FluxGuidance(Node):
    """Set Flux dev's distilled guidance strength on a conditioning (sampled at CFG 1)."""

    category = "advanced/conditioning/flux"
    inputs = {"conditioning": Conditioning(), "guidance": Float(default=3.5, min=0.0, max=100.0, step=0.1)}
    outputs = {"CONDITIONING": Conditioning()}

    def run(self, conditioning, guidance):
        return [[c, {**o, "guidance": guidance}] for c, o in conditioning]


class EmptySD3LatentImage(Node):
    """A batch of empty 16-channel latents (SD3 and Flux)."""

    category = "latent/sd3"
    inputs = {
        "width": Int(default=1024, min=16, max=MAX_RESOLUTION, step=16),
        "height": Int(default=1024, min=16, max=MAX_RESOLUTION, step=16),
        "batch_size": Int(default=1, min=1, max=4096),
    }
    outputs = {"LATENT": Latent()}

    def run(self, width, height, batch_size):
        from nodeflow.models.families_flow import SD3_LATENT

        down = SD3_LATENT.downscale
        return {"samples": torch.zeros(batch_size, SD3_LATENT.channels, height // down, width // down)}

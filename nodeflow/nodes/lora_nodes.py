"""LoRA loaders: patch a model (and its text encoder) with a LoRA from models/loras, without
reloading the base weights; the unpatched model stays usable and unchanged."""

from __future__ import annotations

import logging

from nodeflow.schema.node import Node
from nodeflow.schema.types import Clip, Combo, Float, Model

from .model_files import cached, file_identity, model_fingerprint

log = logging.getLogger(__name__)


def _strength():
    return Float(default=1.0, min=-100.0, max=100.0, step=0.01)


def apply_lora_file(ctx, model, clip, lora_name: str, strength_model: float, strength_clip: float):
    from nodeflow.models.lora import apply_lora, load_lora

    path = ctx.env.model_path("loras", lora_name)
    groups = cached(ctx, ("lora", *file_identity(path)), lambda: load_lora(path))
    new_model, new_clip, unused = apply_lora(model, clip, groups, strength_model, strength_clip, lora_name)
    if unused:
        log.warning("LoRA %s: %d modules matched nothing in this model (first: %s)", lora_name, len(unused), unused[:3])
    return new_model, new_clip


class LoraLoader(Node):
    """Apply a LoRA to the diffusion model and the text encoder, each with its own strength."""

    display_name = "Load LoRA"
    category = "loaders"
    inputs = {
        "model": Model(),
        "clip": Clip(),
        "lora_name": Combo(files="loras"),
        "strength_model": _strength(),
        "strength_clip": _strength(),
    }
    outputs = {"MODEL": Model(), "CLIP": Clip()}

    @classmethod
    def fingerprint(cls, env, lora_name, **_):
        return model_fingerprint(env, "loras", lora_name)

    def run(self, model, clip, lora_name, strength_model, strength_clip):
        return apply_lora_file(self.ctx, model, clip, lora_name, strength_model, strength_clip)


class LoraLoaderModelOnly(Node):
    """Apply a LoRA to the diffusion model only."""

    category = "loaders"
    inputs = {"model": Model(), "lora_name": Combo(files="loras"), "strength_model": _strength()}
    outputs = {"MODEL": Model()}

    @classmethod
    def fingerprint(cls, env, lora_name, **_):
        return model_fingerprint(env, "loras", lora_name)

    def run(self, model, lora_name, strength_model):
        return apply_lora_file(self.ctx, model, None, lora_name, strength_model, 0.0)[0]

"""Loaders for Stable Diffusion weights: checkpoints, diffusers folders, VAE, CLIP, UNet, and
CheckpointSave. Loaded models are cached by the model manager, keyed by file identity."""

from __future__ import annotations

import os
from pathlib import Path

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Clip, Combo, Hidden, Model, String, Vae

from .model_files import cached, clip_output, file_identity, load_text_encoders, manager, model_fingerprint


def load_checkpoint_cached(ctx, path: Path, prediction: str | None = None):
    from nodeflow.models.loader import load_checkpoint

    key = ("checkpoint", *file_identity(path), prediction)
    return cached(ctx, key, lambda: load_checkpoint(path, manager(ctx), prediction=prediction))


class CheckpointLoaderSimple(Node):
    """Load a Stable Diffusion checkpoint (SD1.x, SD2.x, SDXL; .safetensors or a safe .ckpt):
    the diffusion model, its text encoder(s) and its VAE. The family is detected from the file."""

    display_name = "Load Checkpoint"
    category = "loaders"
    inputs = {"ckpt_name": Combo(files="checkpoints", tooltip="The checkpoint (model) to load.")}
    outputs = {"MODEL": Model(), "CLIP": Clip(), "VAE": Vae()}

    @classmethod
    def fingerprint(cls, env, ckpt_name):
        return model_fingerprint(env, "checkpoints", ckpt_name)

    def run(self, ckpt_name):
        model, clip, vae = load_checkpoint_cached(self.ctx, self.ctx.env.model_path("checkpoints", ckpt_name))
        return model.clone(), clip_output(self.ctx, clip), vae


V_CONFIGS = ("v2-inference-v.yaml", "v2-inference-v_fp32.yaml")
CONFIG_NAMES = [
    "anything_v3.yaml",
    "v1-inference.yaml",
    "v1-inference_clip_skip_2.yaml",
    "v1-inference_clip_skip_2_fp16.yaml",
    "v1-inference_fp16.yaml",
    "v1-inpainting-inference.yaml",
    "v2-inference-v.yaml",
    "v2-inference-v_fp32.yaml",
    "v2-inference.yaml",
    "v2-inference_fp32.yaml",
    "v2-inpainting-inference.yaml",
]


class CheckpointLoader(Node):
    """Load a checkpoint with a named config. The architecture is still read from the file; the
    config decides what the file cannot tell: v-prediction (v2-inference-v) and clip skip 2."""

    display_name = "Load Checkpoint With Config (DEPRECATED)"
    category = "advanced/loaders"
    inputs = {"config_name": Combo(choices=CONFIG_NAMES), "ckpt_name": Combo(files="checkpoints")}
    outputs = {"MODEL": Model(), "CLIP": Clip(), "VAE": Vae()}

    @classmethod
    def fingerprint(cls, env, config_name, ckpt_name):
        return model_fingerprint(env, "checkpoints", ckpt_name) + config_name

    def run(self, config_name, ckpt_name):
        prediction = "v" if config_name in V_CONFIGS else "eps"
        model, clip, vae = load_checkpoint_cached(
            self.ctx, self.ctx.env.model_path("checkpoints", ckpt_name), prediction
        )
        clip = clip_output(self.ctx, clip)
        if clip is not None and "clip_skip_2" in config_name:
            clip.set_last_layer(-2)
        return model.clone(), clip, vae


def _diffusers_folders(env) -> list[str]:
    names = []
    for root in env.model_paths.get("diffusers", []) + env.model_paths.get("checkpoints", []):
        root = Path(root)
        if root.is_dir():
            names.extend(
                entry.name
                for entry in sorted(root.iterdir())
                if (entry / "model_index.json").is_file()
                or (entry / "unet" / "config.json").is_file()
                or (entry / "transformer" / "config.json").is_file()
            )
    return names


class DiffusersLoader(Node):
    """Load a diffusers-format model folder (unet/, vae/, text_encoder/ ...) from models/diffusers
    or models/checkpoints."""

    category = "advanced/loaders/deprecated"
    inputs = {"model_path": Combo(choices=_diffusers_folders)}
    outputs = {"MODEL": Model(), "CLIP": Clip(), "VAE": Vae()}

    def run(self, model_path):
        from nodeflow.folders import model_join
        from nodeflow.models.diffusers_folder import load_diffusers_folder

        for root in self.ctx.env.model_paths.get("diffusers", []) + self.ctx.env.model_paths.get("checkpoints", []):
            folder = model_join(root, model_path)
            if folder.is_dir():
                key = ("diffusers", str(folder), os.stat(folder).st_mtime_ns)
                model, clip, vae = cached(
                    self.ctx, key, lambda folder=folder: load_diffusers_folder(folder, manager(self.ctx))
                )
                return model.clone(), clip_output(self.ctx, clip), vae
        raise FileNotFoundError(f"diffusers folder {model_path!r} not found in models/diffusers or models/checkpoints")


class VAELoader(Node):
    """Load a standalone VAE (original or diffusers layout) from models/vae."""

    display_name = "Load VAE"
    category = "loaders"
    inputs = {"vae_name": Combo(files="vae")}
    outputs = {"VAE": Vae()}

    @classmethod
    def fingerprint(cls, env, vae_name):
        return model_fingerprint(env, "vae", vae_name)

    def run(self, vae_name):
        from nodeflow.models.loader import load_vae_file

        path = self.ctx.env.model_path("vae", vae_name)
        return cached(self.ctx, ("vae", *file_identity(path)), lambda: load_vae_file(path, manager(self.ctx)))


class UNETLoader(Node):
    """Load only the diffusion model from a checkpoint or a UNet file in models/unet (original
    layout, optionally without the model.diffusion_model. prefix)."""

    display_name = "Load Diffusion Model"
    category = "advanced/loaders"
    inputs = {
        "unet_name": Combo(files="unet"),
        "weight_dtype": Combo(choices=["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"]),
    }
    outputs = {"MODEL": Model()}

    @classmethod
    def fingerprint(cls, env, unet_name, weight_dtype):
        return model_fingerprint(env, "unet", unet_name) + weight_dtype

    def run(self, unet_name, weight_dtype):
        from nodeflow.models.component_files import load_unet_file

        path = self.ctx.env.model_path("unet", unet_name)
        model = cached(
            self.ctx,
            ("unet", *file_identity(path), weight_dtype),
            lambda: load_unet_file(path, manager(self.ctx), weight_dtype),
        )
        return model.clone()


CLIP_TYPES = [
    "stable_diffusion",
    "stable_cascade",
    "sd3",
    "stable_audio",
    "mochi",
    "ltxv",
    "pixart",
    "cosmos",
    "lumina2",
    "wan",
    "hidream",
    "chroma",
    "ace",
    "omnigen2",
    "qwen_image",
    "hunyuan_image",
    "flux2",
    "ovis",
]


class CLIPLoader(Node):
    """Load a text encoder file from models/clip or models/text_encoders (CLIP-L in Hugging Face
    or original layout, or an OpenCLIP tower; type sd3: a CLIP-L, CLIP-G or T5-XXL file as one of
    SD3's towers)."""

    display_name = "Load CLIP"
    category = "advanced/loaders"
    inputs = {
        "clip_name": Combo(files="text_encoders"),
        "type": Combo(choices=CLIP_TYPES),
        "device": Combo(choices=["default", "cpu"], optional=True, extra={"advanced": True}),
    }
    outputs = {"CLIP": Clip()}

    @classmethod
    def fingerprint(cls, env, clip_name, type, device="default"):
        return model_fingerprint(env, "text_encoders", clip_name) + type

    @classmethod
    def validate(cls, env, clip_name, type, device="default"):
        if type not in ("stable_diffusion", "sd3"):
            return f"CLIP type {type!r} is not supported by NodeFlow yet; use stable_diffusion or sd3"
        return True

    def run(self, clip_name, type, device="default"):
        from nodeflow.models.component_files import load_clip_file

        if type == "sd3":  # one of SD3's towers alone (the others' parts are zeros)
            return load_text_encoders(self.ctx, [clip_name], type)
        path = self.ctx.env.model_path("text_encoders", clip_name)
        clip = cached(self.ctx, ("clip", *file_identity(path)), lambda: load_clip_file(path, manager(self.ctx)))
        return clip_output(self.ctx, clip)


class CheckpointSave(Node):
    """Save MODEL + CLIP + VAE as a single-file .safetensors checkpoint in the released SD layout
    (LoRAs applied to the inputs are baked in) under the output folder."""

    display_name = "Save Checkpoint"
    category = "advanced/model_merging"
    output_node = True
    inputs = {
        "model": Model(),
        "clip": Clip(),
        "vae": Vae(),
        "filename_prefix": String(default="checkpoints/ComfyUI"),
        "prompt": Hidden("PROMPT"),
        "extra_pnginfo": Hidden("EXTRA_PNGINFO"),
    }
    outputs = {}

    def run(self, model, clip, vae, filename_prefix, prompt=None, extra_pnginfo=None):
        from nodeflow.models.saver import save_checkpoint

        from .output_names import output_file

        path, record = output_file(self.ctx.env, filename_prefix, ".safetensors")
        metadata = {}
        if prompt is not None:
            metadata["prompt"] = prompt
        for key, value in (extra_pnginfo or {}).items():
            metadata[str(key)] = value
        save_checkpoint(path, model, clip, vae, metadata)
        return NodeResult(ui={"checkpoints": [record]})

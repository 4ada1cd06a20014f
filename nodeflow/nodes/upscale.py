"""Model-based upscaling: load an ESRGAN-family (or other spandrel-supported) model and upscale
images with it, tile by tile, so any image size fits in memory."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nodeflow.folders import UnsafePath
from nodeflow.imaging.tiles import upscale_auto
from nodeflow.models.upscaler import load_upscale_model
from nodeflow.schema.node import Node
from nodeflow.schema.types import Combo, Image, UpscaleModel

TILE_ACCELERATOR = 512  # starting tile side on CUDA/MPS; halves automatically on out-of-memory
TILE_CPU = 256  # on the CPU an out-of-memory is not an exception (the OS kills the process): stay small
OVERLAP = 32


def _model_file(env: Any, model_name: str) -> Path:
    """The resolved path of an upscale model, or ValueError naming the input and the fix."""
    try:
        return env.model_path("upscale_models", model_name)
    except (FileNotFoundError, UnsafePath) as exc:
        raise ValueError(f"model_name: {exc}") from None


class UpscaleModelLoader(Node):
    """Load an upscale model (ESRGAN, Real-ESRGAN, SwinIR, ...) from models/upscale_models.
    .safetensors files are preferred; .pth files are read without running pickled code."""

    display_name = "Load Upscale Model"
    category = "loaders"
    inputs = {"model_name": Combo(files="upscale_models")}
    outputs = {"UPSCALE_MODEL": UpscaleModel()}

    @classmethod
    def fingerprint(cls, env: Any, model_name: str = "", **_: Any) -> Any:
        try:
            stat = _model_file(env, model_name).stat()
        except (OSError, ValueError):
            return float("nan")  # missing: never cache; run() reports the error
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def run(self, model_name: str) -> Any:
        path = _model_file(self.ctx.env, model_name)
        stat = path.stat()

        def factory() -> Any:
            try:
                return load_upscale_model(path)
            except ValueError as exc:
                raise ValueError(f"model_name: {exc}") from None

        models = self.ctx.models
        if models is None:
            return factory()
        return models.load(("upscale", str(path), stat.st_mtime_ns, stat.st_size), factory)


def compute_dtype(descriptor: Any, device: torch.device) -> torch.dtype:
    """bf16 or fp16 on CUDA when the model supports it (bf16 first: it cannot overflow), else fp32."""
    if device.type == "cuda":
        if getattr(descriptor, "supports_bfloat16", False) and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if getattr(descriptor, "supports_half", False):
            return torch.float16
    return torch.float32


class ImageUpscaleWithModel(Node):
    """Upscale an image with an upscale model, in overlapping tiles blended without seams."""

    display_name = "Upscale Image (using Model)"
    category = "image/upscaling"
    inputs = {"upscale_model": UpscaleModel(), "image": Image()}
    outputs = {"IMAGE": Image()}

    def run(self, upscale_model: Any, image: torch.Tensor) -> torch.Tensor:
        if not callable(upscale_model) or not hasattr(upscale_model, "scale"):
            raise ValueError(
                f"upscale_model: expected an upscale model, got {type(upscale_model).__name__}; "
                f"connect the output of Load Upscale Model"
            )
        if not isinstance(image, torch.Tensor) or image.dim() != 4:
            shape = list(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
            raise ValueError(f"image: expected an IMAGE [batch, height, width, channels], got {shape}")
        channels_in = int(getattr(upscale_model, "input_channels", 3))
        pixels = image.detach().float().movedim(-1, 1).contiguous()  # [B,C,H,W]
        alpha = None
        if pixels.shape[1] == channels_in + 1:  # RGBA into an RGB model: the alpha is resized smoothly
            pixels, alpha = pixels[:, :channels_in], pixels[:, channels_in:]
        elif pixels.shape[1] != channels_in:
            raise ValueError(
                f"image: the image has {pixels.shape[1]} channels but the upscale model expects "
                f"{channels_in}; convert the image first"
            )
        models = self.ctx.models
        device = models.device if models is not None else torch.device("cpu")
        dtype = compute_dtype(upscale_model, device)
        scale = int(upscale_model.scale)
        placed = models.use(upscale_model.model) if models is not None else contextlib.nullcontext()
        upscale_model.model.to(dtype=dtype)
        with placed, torch.no_grad():

            def run_tile(tile: torch.Tensor) -> torch.Tensor:
                return upscale_model(tile.to(device, dtype)).float()

            tile = TILE_ACCELERATOR if device.type in ("cuda", "mps") else TILE_CPU
            out = upscale_auto(run_tile, pixels, scale, tile=tile, overlap=OVERLAP, progress=self.ctx.progress)
        out = out.clamp_(0, 1)
        if alpha is not None:
            resized = F.interpolate(alpha, size=out.shape[-2:], mode="bilinear", align_corners=False)
            out = torch.cat([out, resized.clamp(0, 1).to(out.device)], dim=1)
        return out.movedim(1, -1).cpu().contiguous()

"""Single components in their own files: a UNet (models/unet) or a text encoder (models/clip,
models/text_encoders), in the original layout or with the checkpoint prefixes kept."""

from __future__ import annotations

from pathlib import Path

import torch

from . import half_storage
from .checkpoint_file import ModelFileError, load_state_dict, stream_state_dict, tensor_shapes
from .clip_model import CLIP
from .detect import UNET_PREFIX, detect_checkpoint
from .diffusion_model import DiffusionModel
from .family import family_named
from .fp8_storage import FP8_DTYPES, store_fp8, stored_fp8
from .loader import _text_encoder, _unet, keeps_16bit, make_clip
from .patching import PatchedModule

FP8 = {"fp8_e4m3fn": "float8_e4m3fn", "fp8_e4m3fn_fast": "float8_e4m3fn", "fp8_e5m2": "float8_e5m2"}


def load_unet_file(path: Path, manager=None, weight_dtype: str = "default") -> DiffusionModel:
    """A diffusion model alone. fp8 weight dtypes are stored as fp8 and computed in the
    manager's dtype (on CPU fp8 saves memory only); a UNet's 16-bit weights may stay 16-bit (half_storage)."""
    path = Path(path)
    compute = manager.dtype("unet") if manager is not None else torch.float32
    keep = weight_dtype in FP8  # cast layer by layer after loading
    info = _detect(tensor_shapes(path), path.name)

    def dtype_for(name: str, stored: torch.dtype) -> torch.dtype | None:
        return None if keep or stored in FP8_DTYPES else compute

    if not keep and keeps_16bit(info, manager):
        dtype_for = half_storage.keep_stored(dtype_for, ("",))  # every tensor of the file is the UNet's
    return unet_from_state(stream_state_dict(path, dtype_for), manager, weight_dtype, path.name)


def _detect(shapes: dict, source: str):
    if not any(k.startswith(UNET_PREFIX) for k in shapes):
        shapes = {UNET_PREFIX + k: v for k, v in shapes.items()}
    try:
        return detect_checkpoint(shapes)
    except ValueError as exc:
        raise ModelFileError(f"{source}: {exc}") from None


def unet_from_state(
    sd: dict[str, torch.Tensor], manager=None, weight_dtype: str = "default", source: str = "state dict"
) -> DiffusionModel:
    """A diffusion model from UNet tensors in memory (original layout, with or without the prefix)."""
    if not any(k.startswith(UNET_PREFIX) for k in sd):
        sd = {UNET_PREFIX + k: v for k, v in sd.items()}
    info = _detect({k: tuple(v.shape) for k, v in sd.items()}, source)
    compute = manager.dtype("unet") if manager is not None else torch.float32
    storage = stored_fp8(sd)
    if weight_dtype in FP8:
        if not hasattr(torch, FP8[weight_dtype]):
            raise ModelFileError(f"weight_dtype {weight_dtype}: this torch has no {FP8[weight_dtype]}")
        storage = getattr(torch, FP8[weight_dtype])
    keep = storage is None and keeps_16bit(info, manager)
    unet = _unet(info, sd, compute if storage is None else None, keep_16bit=keep)  # fp8: cast layer by layer below
    if storage is not None:
        unet = store_fp8(unet, storage, compute)
    return DiffusionModel(PatchedModule(unet), info.family, manager=manager, source=source)


CLIP_L_HF = "text_model.embeddings.token_embedding.weight"


def load_clip_file(path: Path, manager=None) -> CLIP:
    """A CLIP-L (Hugging Face names, with or without ``text_model.``, or checkpoint prefixes) or an
    OpenCLIP text tower (``token_embedding.weight``, ``transformer.resblocks.*``)."""
    path = Path(path)
    return clip_from_state(load_state_dict(path), manager, path.name)


def clip_from_state(sd: dict[str, torch.Tensor], manager=None, source: str = "state dict") -> CLIP:
    """The same from tensors in memory."""
    from .detect import _clip_l_config, _open_clip_config

    if any(k.startswith(("cond_stage_model.", "conditioner.")) for k in sd):
        prefix_kind = [
            ("cond_stage_model.transformer.text_model.", "clip_l"),
            ("cond_stage_model.model.", "open_clip"),
            ("conditioner.embedders.0.transformer.text_model.", "clip_l"),
            ("conditioner.embedders.1.model.", "open_clip"),
        ]
        prefix, kind = next(((p, k) for p, k in prefix_kind if any(key.startswith(p) for key in sd)), (None, None))
        if prefix is None:
            raise ModelFileError(f"{source}: no text encoder found")
        sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
    elif any(k.startswith("text_model.") for k in sd):
        sd, kind = {k[len("text_model.") :]: v for k, v in sd.items() if k.startswith("text_model.")}, "clip_l"
    elif "embeddings.token_embedding.weight" in sd:
        kind = "clip_l"
    elif "token_embedding.weight" in sd and any(k.startswith("transformer.resblocks.") for k in sd):
        kind = "open_clip"
    else:
        raise ModelFileError(
            f"{source} is not a CLIP text encoder (no token embedding found); "
            "expected a CLIP-L or OpenCLIP text model file"
        )
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    cfg = _clip_l_config(shapes) if kind == "clip_l" else _open_clip_config(shapes)
    family = family_named("sd1" if kind == "clip_l" else "sd2")  # a lone tower: the family it came with
    tower = family.text_towers[0]
    cfg.update(prefix="", kind=kind)
    dtype = manager.dtype("text") if manager is not None else torch.float32
    encoder = _text_encoder(cfg, sd, tower, dtype)
    return make_clip([encoder], family, manager)

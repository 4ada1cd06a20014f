"""``comfy.sd``: loading checkpoints, UNets, text encoders and VAEs, LoRAs on MODEL + CLIP, saving.

Files go through NodeFlow's loaders (family detection, released layouts) and, while a node runs,
through the engine's model cache (so a pack loading a checkpoint shares it with CheckpointLoader
nodes). ``VAE`` and ``CLIP`` are ComfyUI's class names for NodeFlow's VAE and CLIP (isinstance
holds); ``VAE(sd=...)`` builds one from a state dict as ComfyUI's does."""

from __future__ import annotations

import abc
import logging
from enum import Enum
from pathlib import Path
from typing import Any

from nodeflow.engine.context import current_context
from nodeflow.models.checkpoint_file import ModelFileError
from nodeflow.models.clip_model import CLIP as NodeFlowCLIP
from nodeflow.models.vae_model import VAE as NodeFlowVAE

log = logging.getLogger(__name__)

CLIPType = Enum(
    "CLIPType",
    [
        "STABLE_DIFFUSION",
        "STABLE_CASCADE",
        "SD3",
        "STABLE_AUDIO",
        "HUNYUAN_DIT",
        "FLUX",
        "MOCHI",
        "LTXV",
        "HUNYUAN_VIDEO",
        "PIXART",
        "COSMOS",
        "LUMINA2",
        "WAN",
        "HIDREAM",
        "CHROMA",
        "ACE",
        "OMNIGEN2",
        "QWEN_IMAGE",
        "HUNYUAN_IMAGE",
        "HUNYUAN_VIDEO_15",
        "OVIS",
        "KANDINSKY5",
        "KANDINSKY5_IMAGE",
        "FLUX2",
    ],
)


class VAE(metaclass=abc.ABCMeta):  # noqa: B024 -- ABCMeta for VAE.register(NodeFlowVAE) (isinstance), not for abstract methods
    """ComfyUI's VAE class: NodeFlow's VAE is one; ``VAE(sd=state_dict)`` builds one from tensors."""

    def __new__(cls, sd: dict | None = None, device=None, config=None, dtype=None, metadata=None):
        if sd is None or config is not None:
            raise NotImplementedError(
                "NodeFlow builds VAEs from a state dict in the released (or diffusers) layout; "
                "VAE(config=...) is not supported"
            )
        from nodeflow.models.loader import vae_from_state

        return vae_from_state(sd, metadata, _manager(), "VAE state dict")


class CLIP(metaclass=abc.ABCMeta):  # noqa: B024 -- ABCMeta for CLIP.register(NodeFlowCLIP) (isinstance), not for abstract methods
    """ComfyUI's CLIP class: NodeFlow's CLIP is one (build it with load_clip or a checkpoint loader)."""

    def __new__(
        cls,
        target=None,
        embedding_directory=None,
        no_init=False,
        tokenizer_data=None,
        parameters=0,
        state_dict=None,
        model_options=None,
    ):
        raise NotImplementedError(
            "NodeFlow builds CLIP objects from files: use comfy.sd.load_clip or load_checkpoint_guess_config"
        )


VAE.register(NodeFlowVAE)
CLIP.register(NodeFlowCLIP)


def _manager():
    ctx = current_context()
    return getattr(ctx, "models", None)


def _embedding_folders(embedding_directory: Any) -> list[str]:
    if embedding_directory:
        return [embedding_directory] if isinstance(embedding_directory, (str, Path)) else list(embedding_directory)
    env = getattr(current_context(), "env", None)
    return [str(p) for p in env.model_paths.get("embeddings", [])] if env is not None else []


def _with_embeddings(clip: NodeFlowCLIP | None, embedding_directory: Any) -> NodeFlowCLIP | None:
    if clip is None:
        return None
    clip = clip.clone()
    clip.embedding_directory = [str(p) for p in _embedding_folders(embedding_directory)]
    return clip


def _load_checkpoint(path: Path, prediction: str | None = None):
    from nodeflow.models.loader import load_checkpoint

    ctx = current_context()
    if ctx is not None and getattr(ctx, "models", None) is not None:
        from nodeflow.nodes.sd_loaders import load_checkpoint_cached

        return load_checkpoint_cached(ctx, path, prediction)
    return load_checkpoint(path, None, prediction=prediction)


def load_checkpoint_guess_config(
    ckpt_path,
    output_vae=True,
    output_clip=True,
    output_clipvision=False,
    embedding_directory=None,
    output_model=True,
    model_options=None,
    te_model_options=None,
) -> tuple:
    """(MODEL or None, CLIP or None, VAE or None, CLIP_VISION None) from a single-file checkpoint."""
    try:
        model, clip, vae = _load_checkpoint(Path(ckpt_path))
    except ModelFileError as exc:
        raise RuntimeError(f"ERROR: Could not detect model type of: {ckpt_path} ({exc})") from exc
    return (
        model.clone() if output_model else None,
        _with_embeddings(clip, embedding_directory) if output_clip else None,
        vae if output_vae else None,
        None,
    )


def load_state_dict_guess_config(
    sd,
    output_vae=True,
    output_clip=True,
    output_clipvision=False,
    embedding_directory=None,
    output_model=True,
    model_options=None,
    te_model_options=None,
    metadata=None,
) -> tuple | None:
    """The same from a state dict already in memory; None when its model type is not recognised."""
    from nodeflow.models.loader import load_checkpoint_state

    try:
        model, clip, vae = load_checkpoint_state(sd, "state dict", metadata, _manager(), output_vae, output_clip)
    except ModelFileError as exc:
        log.warning("load_state_dict_guess_config: %s", exc)
        return None
    return (model if output_model else None, _with_embeddings(clip, embedding_directory), vae, None)


def load_checkpoint(
    config_path=None,
    ckpt_path=None,
    output_vae=True,
    output_clip=True,
    embedding_directory=None,
    state_dict=None,
    config=None,
) -> tuple:
    """The legacy loader: the architecture comes from the file; a ``-v`` config means v-prediction."""
    prediction = "v" if config_path and Path(str(config_path)).stem.startswith("v2-inference-v") else None
    model, clip, vae = _load_checkpoint(Path(ckpt_path), prediction)
    return (
        model.clone(),
        _with_embeddings(clip, embedding_directory) if output_clip else None,
        vae if output_vae else None,
    )


def load_diffusion_model_state_dict(sd, model_options=None, metadata=None):
    """A MODEL from bare UNet tensors (released layout, prefixed or not); None when unrecognised."""
    from nodeflow.models.component_files import unet_from_state

    try:
        return unet_from_state(sd, _manager())
    except ModelFileError as exc:
        log.warning("load_diffusion_model_state_dict: %s", exc)
        return None


def load_diffusion_model(unet_path, model_options=None):
    from nodeflow.models.component_files import load_unet_file

    return load_unet_file(Path(unet_path), _manager())


def load_unet(unet_path, dtype=None):
    return load_diffusion_model(unet_path)


def load_clip(ckpt_paths, embedding_directory=None, clip_type=CLIPType.STABLE_DIFFUSION, model_options=None):
    """A CLIP from one text-encoder file (CLIP-L or an OpenCLIP tower)."""
    from nodeflow.models.component_files import load_clip_file

    paths = [ckpt_paths] if isinstance(ckpt_paths, (str, Path)) else list(ckpt_paths)
    if len(paths) != 1 or clip_type not in (CLIPType.STABLE_DIFFUSION, None):
        raise NotImplementedError(
            f"NodeFlow loads one stable_diffusion text encoder file at a time "
            f"(got {len(paths)} files, type {getattr(clip_type, 'name', clip_type)})"
        )
    return _with_embeddings(load_clip_file(Path(paths[0]), _manager()), embedding_directory)


def load_text_encoder_state_dicts(
    state_dicts=(), embedding_directory=None, clip_type=CLIPType.STABLE_DIFFUSION, model_options=None
):
    """A CLIP from one text-encoder state dict (CLIP-L or an OpenCLIP tower)."""
    from nodeflow.models.component_files import clip_from_state

    state_dicts = list(state_dicts)
    if len(state_dicts) != 1 or clip_type not in (CLIPType.STABLE_DIFFUSION, None):
        raise NotImplementedError(
            f"NodeFlow builds a CLIP from one stable_diffusion text encoder at a time "
            f"(got {len(state_dicts)}, type {getattr(clip_type, 'name', clip_type)})"
        )
    return _with_embeddings(clip_from_state(state_dicts[0], _manager()), embedding_directory)


def load_lora_for_models(model, clip, lora: dict, strength_model: float, strength_clip: float) -> tuple:
    """(MODEL clone, CLIP clone) carrying the LoRA state dict ``lora``; either input may be None."""
    from nodeflow.models.lora import apply_lora, group_lora

    groups = group_lora(lora)
    try:
        new_model, new_clip, unused = apply_lora(model, clip, groups, strength_model, strength_clip, "LoRA")
    except ValueError as exc:
        log.warning("%s", exc)
        return (model.clone() if model is not None else None, clip.clone() if clip is not None else None)
    for key in unused:
        log.warning("lora key not loaded: %s", key)
    return new_model, new_clip


def save_checkpoint(output_path, model, clip=None, vae=None, clip_vision=None, metadata=None, extra_keys=None):
    from nodeflow.models.saver import save_checkpoint as save

    if clip_vision is not None or extra_keys:
        raise NotImplementedError("save_checkpoint: clip_vision and extra_keys are not supported by NodeFlow")
    return save(Path(output_path), model, clip, vae, metadata)

"""Build MODEL / CLIP / VAE objects from a single-file checkpoint (original SD layout) or a
diffusers folder. Family and architecture come from tensor names and shapes (detect.py); weights
are renamed (convert_*.py) and assigned into diffusers / transformers modules built on the meta
device, so nothing is initialised twice and nothing is downloaded."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from . import half_storage, mapped_weights
from .checkpoint_file import (
    SAFETENSORS_SUFFIXES,
    ModelFileError,
    file_metadata,
    load_state_dict,
    stream_state_dict,
    tensor_shapes,
)
from .clip_model import CLIP, EOS, TextEncoder
from .convert_clip import clip_l_to_hf, open_clip_to_hf
from .convert_vae import vae_to_diffusers
from .detect import CheckpointInfo, clip_config_kwargs, detect_checkpoint
from .diffusion_model import DiffusionModel
from .family import ModelFamily, TextTower, family_named
from .kernels import use_kernels
from .nets.clip_text import ClipTextConfig, text_model_class
from .patching import PatchedModule
from .preview import remember_latent_space
from .tensor_stream import TensorStream
from .vae_model import VAE, LazyRGBFit, preview_decoder

log = logging.getLogger(__name__)

CLIP_KINDS = ("clip_l", "open_clip")  # text towers in the released SD layouts (built by _text_encoder itself)


def _sub(sd: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def build_module(
    cls_factory,
    state: dict[str, torch.Tensor],
    dtype: torch.dtype,
    what: str,
    ignore_missing: tuple[str, ...] = (),
    module: torch.nn.Module | None = None,
    keep_16bit: bool = False,
) -> torch.nn.Module:
    """Instantiate on the meta device (or take ``module``, already built there), assign ``state``
    (strict), cast to ``dtype`` (with ``keep_16bit``: conv/linear weights stored in 16 bits stay so,
    ``half_storage.settle``)."""
    if module is None:
        with torch.device("meta"):
            module = cls_factory()
    missing, unexpected = module.load_state_dict(state, strict=False, assign=True)
    missing = [k for k in missing if not k.endswith("position_ids") and k not in ignore_missing]
    if missing or unexpected:
        raise ModelFileError(
            f"{what}: {len(missing)} missing and {len(unexpected)} unexpected weights "
            f"(first: {(missing or unexpected)[:3]}); the file does not match the detected "
            "architecture"
        )
    for name, buf in list(module.named_buffers()):
        if buf.is_meta:  # non-persistent buffers (CLIP position ids) are rebuilt
            if not name.endswith("position_ids"):
                raise ModelFileError(f"{what}: buffer {name} is not in the file")
            owner = module.get_submodule(name.rsplit(".", 1)[0])
            owner.register_buffer("position_ids", torch.arange(buf.shape[-1]).expand(1, -1), persistent=False)
    if dtype is not None and keep_16bit:
        if half_storage.settle(module, dtype):
            use_kernels(module)  # torch's own layers cannot multiply fp32 inputs by 16-bit weights
    elif dtype is not None:  # None: keep each tensor's dtype as loaded (fp8 storage casts per layer)
        module = module.to(dtype)
    return mapped_weights.track(module.eval().requires_grad_(False))


def _unet(
    info: CheckpointInfo, sd: dict, dtype: torch.dtype, meta: torch.nn.Module | None = None, keep_16bit: bool = False
) -> torch.nn.Module:
    state = info.family.to_network(_sub(sd, info.prefixes["unet"]), info.unet_config)
    network = lambda: info.family.network(info.unet_config)  # noqa: E731
    return build_module(network, state, dtype, "UNet", module=meta, keep_16bit=keep_16bit)


def keeps_16bit(info: CheckpointInfo, manager, kind: str = "unet") -> bool:
    """Whether this checkpoint's UNet (or CLIP text towers: ``kind`` "text") keeps its 16-bit conv/linear
    weights (``half_storage``)."""
    return info.family.stored_16bit and half_storage.wanted(manager, kind)


def kept_16bit_prefixes(info: CheckpointInfo, manager) -> tuple[str, ...]:
    """The tensor-name prefixes of the components that keep 16-bit weights."""
    prefixes = (info.prefixes["unet"],) if keeps_16bit(info, manager) else ()
    if keeps_16bit(info, manager, "text"):
        prefixes += tuple(c["prefix"] for c in info.text_configs if c["kind"] in CLIP_KINDS)
    return prefixes


def network_code(info: CheckpointInfo) -> torch.nn.Module | None:
    """Import the network code (NodeFlow's own for SD files, ``nets/``: diffusers and transformers take seconds
    to import on a cold start, and only configs the own networks refuse fall back to them) and build the
    diffusion network on the meta device, while a ``TensorStream`` reads the file; returns that
    meta network (None if building failed: the caller builds it again and reports the error)."""
    if any(c["kind"] in CLIP_KINDS for c in info.text_configs):
        from .clip_tokenizer import prefetch

        prefetch()
    try:
        with torch.device("meta"):
            unet = info.family.network(info.unet_config)
        if info.vae_config is not None:
            _vae_class(info.vae_config)  # imports the VAE's network code
    except Exception:
        log.debug("network build beside the file read failed", exc_info=True)
        return None
    return unet


def _vae_class(config: dict) -> type[torch.nn.Module]:
    """NodeFlow's own KL autoencoder for the configs it builds (no diffusers import), else diffusers'."""
    from .nets import vae as own

    reason = own.supports(config)
    if reason is None:
        return own.KLAutoencoder
    log.info("VAE: %s; building diffusers' AutoencoderKL instead", reason)
    from diffusers import AutoencoderKL

    return AutoencoderKL


def _vae(config: dict, state: dict, dtype: torch.dtype) -> torch.nn.Module:
    network = _vae_class(config)
    return build_module(lambda: network(**config), state, dtype, "VAE")


def clip_text_factory(config_kwargs: dict, projection: bool):
    """A builder of NodeFlow's own CLIP text model (``nets.clip_text``: transformers' module tree and numbers,
    without importing transformers) for these ``CLIPTextConfig`` arguments; for a config it does not support,
    of transformers' class."""
    try:
        config = ClipTextConfig(**config_kwargs)
    except ValueError as exc:
        log.info("%s; building transformers' CLIP text model instead", exc)
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

        library_config = CLIPTextConfig(**config_kwargs)
        library_class = CLIPTextModelWithProjection if projection else CLIPTextModel
        return lambda: library_class(library_config)
    own_class = text_model_class(projection)
    return lambda: own_class(config)


def _text_encoder(cfg: dict, sd: dict, tower: TextTower, dtype: torch.dtype, keep_16bit: bool = False) -> TextEncoder:
    sub = _sub(sd, cfg["prefix"])
    if cfg["kind"] in ("hf_clip", "t5"):  # transformers-layout towers of SD3 / Flux files
        from .text_towers import tower_from_state

        return tower_from_state(sub, tower, dtype, cfg["prefix"])
    kwargs = clip_config_kwargs(cfg)
    if cfg["kind"] == "clip_l":
        module = build_module(
            clip_text_factory(kwargs, False), clip_l_to_hf(sub), dtype, "CLIP-L text encoder", keep_16bit=keep_16bit
        )
    else:
        module = build_module(
            clip_text_factory(kwargs, True),
            open_clip_to_hf(sub, cfg.get("num_hidden_layers")),
            dtype,
            "OpenCLIP text encoder",
            keep_16bit=keep_16bit,
        )
    return text_encoder_for(PatchedModule(module), tower)


def text_encoder_for(module: PatchedModule, tower: TextTower) -> TextEncoder:
    """A loaded text model as one of its family's towers (name, pad token, layer, final norm)."""
    return TextEncoder(
        module,
        tower.name,
        pad=EOS if tower.pad_with_eos else 0,
        layer=tower.layer,
        default_layer=tower.layer,
        final_norm_on_hidden=tower.final_norm_on_hidden,
    )


def make_clip(encoders: list[TextEncoder], family: ModelFamily | str, manager) -> CLIP:
    from .clip_tokenizer import load_clip_tokenizer

    family = family_named(family) if isinstance(family, str) else family
    return CLIP(load_clip_tokenizer(), encoders, family, manager, pooled_from=family.pooled_tower)


def load_checkpoint(
    path: Path, manager=None, output_vae: bool = True, output_clip: bool = True, prediction: str | None = None
) -> tuple[DiffusionModel, CLIP | None, VAE | None]:
    """MODEL, CLIP and VAE from one single-file checkpoint."""
    path = Path(path)
    try:
        info = detect_checkpoint(tensor_shapes(path))
    except ModelFileError:
        raise
    except ValueError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    # every component's tensors are cast to its compute dtype as they are read (no second copy); a UNet
    # keeping 16-bit weights takes its tensors as stored
    dtype_for = component_dtypes(info, manager)
    kept = kept_16bit_prefixes(info, manager)
    if kept:
        dtype_for = half_storage.keep_stored(dtype_for, kept)
    if path.suffix.lower() not in SAFETENSORS_SUFFIXES:
        sd, meta = stream_state_dict(path, dtype_for), None
    else:  # read in a thread while this one imports the network code, then help read what is left
        stream = TensorStream(path, dtype_for)
        meta = network_code(info)
        sd = stream.finish()
    return build_checkpoint(
        info, sd, file_metadata(path), path.name, manager, output_vae, output_clip, prediction, meta
    )


def component_dtypes(info: CheckpointInfo, manager):
    """(tensor name, stored dtype) -> the dtype its component computes in (None: not a weight of
    a component this checkpoint builds), as ``stream_state_dict`` asks."""
    unet = manager.dtype("unet") if manager is not None else torch.float32
    vae = manager.dtype("vae") if manager is not None else torch.float32
    by_prefix = [(info.prefixes["unet"], unet)]
    text = manager.dtype("text") if manager is not None else torch.float32
    by_prefix += [(c["prefix"], text) for c in info.text_configs]
    if "vae" in info.prefixes:
        by_prefix.append((info.prefixes["vae"], vae))

    def dtype_for(name: str, stored: torch.dtype) -> torch.dtype | None:
        return next((dtype for prefix, dtype in by_prefix if name.startswith(prefix)), None)

    return dtype_for


def load_checkpoint_state(
    sd: dict[str, torch.Tensor],
    source: str = "state dict",
    metadata: dict | None = None,
    manager=None,
    output_vae: bool = True,
    output_clip: bool = True,
    prediction: str | None = None,
) -> tuple[DiffusionModel, CLIP | None, VAE | None]:
    """The same from tensors already in memory (released checkpoint names)."""
    try:
        info = detect_checkpoint({k: tuple(v.shape) for k, v in sd.items()})
    except ValueError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    return build_checkpoint(info, sd, metadata or {}, source, manager, output_vae, output_clip, prediction)


def build_checkpoint(
    info: CheckpointInfo,
    sd: dict,
    metadata: dict,
    source: str,
    manager,
    output_vae: bool,
    output_clip: bool,
    prediction: str | None,
    meta_unet: torch.nn.Module | None = None,
) -> tuple[DiffusionModel, CLIP | None, VAE | None]:
    dtype = manager.dtype("unet") if manager is not None else torch.float32
    unet = _unet(info, sd, dtype, meta_unet, keeps_16bit(info, manager))
    vae = None
    if output_vae and info.vae_config is not None:
        vae_dtype = manager.dtype("vae") if manager is not None else torch.float32
        module = _vae(info.vae_config, vae_to_diffusers(_sub(sd, info.prefixes["vae"]), info.vae_config), vae_dtype)
        vae = VAE(module, manager=manager, source=source)
    family = info.family.variant(prediction=prediction or metadata.get("nodeflow.prediction"))
    clip = None
    if output_clip and info.text_configs:
        text_dtype = manager.dtype("text") if manager is not None else torch.float32
        keep = keeps_16bit(info, manager, "text")
        encoders = [_text_encoder(c, sd, family.tower(c["tower"]), text_dtype, keep) for c in info.text_configs]
        clip = make_clip(encoders, family, manager)
    model = DiffusionModel(PatchedModule(unet), family, manager=manager, source=source)
    if vae is not None:
        model.rgb_fit = LazyRGBFit(vae)
        model.preview_vae = preview_decoder(vae)
        remember_latent_space(model)
    log.info("loaded %s: %s", source, family.label)
    return model, clip, vae


def load_vae_file(path: Path, manager=None) -> VAE:
    """A standalone VAE: original layout (``encoder.*``/``decoder.*``, optionally under
    ``first_stage_model.``) or diffusers layout (``encoder.down_blocks.*``)."""
    path = Path(path)
    return vae_from_state(load_state_dict(path), file_metadata(path), manager, path.name)


def vae_from_state(
    sd: dict[str, torch.Tensor], metadata: dict | None = None, manager=None, source: str = "state dict"
) -> VAE:
    """A VAE from tensors in memory (original layout, or diffusers layout with NodeFlow's config metadata)."""
    from .detect import _vae_config  # the same shape reading the checkpoint detector uses

    metadata = metadata or {}
    if any(k.startswith("first_stage_model.") for k in sd):
        sd = _sub(sd, "first_stage_model.")
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    diffusers_layout = any(".down_blocks." in k for k in sd)
    if diffusers_layout:
        if "nodeflow.vae_config" in metadata:
            config = json.loads(metadata["nodeflow.vae_config"])
            sd = {k.removeprefix("vae."): v for k, v in sd.items()}
        else:
            raise ModelFileError(f"{source}: diffusers-layout VAE without a config; use the original layout")
        state = sd
    else:
        try:
            config = _vae_config(shapes)
        except (ValueError, KeyError) as exc:
            raise ModelFileError(f"{source} is not a VAE ({exc})") from None
        if config is None:
            raise ModelFileError(f"{source} is not a VAE: no encoder/decoder weights")
        state = vae_to_diffusers(sd, config)
    dtype = manager.dtype("vae") if manager is not None else torch.float32
    return VAE(_vae(config, state, dtype), manager=manager, source=source)

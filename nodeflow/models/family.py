"""What a model family is, as data: how it is recognised from a checkpoint's tensor names and
shapes, its latent format, its text encoders, its extra conditioning, its prediction and noise
schedule, and the factory of its network. Loaders, savers, the sampler and the nodes ask a
``ModelFamily``; they never compare family names. The families themselves are in
``families_sd.py`` (SD1, SD2, SDXL and their variants) and ``families_flow.py`` (SD3, Flux); a new family is one more description
there (or in a module beside it) plus its key converter."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .latent_format import LatentFormat

Shape = tuple[int, ...]


@dataclass(frozen=True)
class TextTower:
    """One text encoder of a family."""

    name: str  # "clip_l" | "clip_h" | "clip_g": also the key textual inversions use
    prefix: str  # where it lives in a released single-file checkpoint
    kind: str = "clip_l"  # tensor layout: "clip_l" (OpenAI CLIP) or "open_clip"
    layer: int = -1  # hidden layer read by default (-1 last, -2 penultimate)
    pad_with_eos: bool = True  # pad token: CLIP-L pads with EOS, OpenCLIP with 0
    final_norm_on_hidden: bool = True  # apply the final layer norm to the chosen hidden layer
    saves_position_ids: bool = False  # released files carry the CLIP position ids
    lora_prefixes: tuple[str, str] = ("lora_te_", "text_encoder.")  # kohya and PEFT module prefixes
    max_tokens: int = 77  # CLIP: tokens per chunk; T5: the minimum (padded) length
    diffusers_folder: str = "text_encoder"  # its sub-folder in a diffusers model folder
    projection: bool = False  # loaded with its text projection (the pooled tower of two-tower families)


@dataclass(frozen=True)
class Recognition:
    """What the detector read from a checkpoint, for families to match against."""

    unet: Mapping[str, Shape]  # UNet tensors, checkpoint prefix removed
    text_prefixes: frozenset[str]  # checkpoint prefixes of the text towers found
    text_kinds: frozenset[str]  # "clip_l" / "open_clip"


@dataclass(frozen=True)
class ModelFamily:
    name: str  # stable id, written into saved files' metadata and shown to users
    label: str
    latent_format: LatentFormat
    text_towers: tuple[TextTower, ...]
    pooled_tower: str | None  # the tower whose pooled output conditions the model
    recognise: Callable[[Recognition], bool]
    context_dim: int  # cross-attention width of the released model (recognises diffusers folders)
    prediction: str = "eps"  # "eps" | "v"
    inpaint: bool = False  # 9-channel UNet: noisy latent + mask + masked-image latent
    # conv/linear weights may stay in the file's 16 bits while the network computes in fp32 (half_storage.py)
    stored_16bit: bool = False
    base: str = ""  # the family this is a variant of ("" for a base family)
    unet_sample_size: int = 64
    vae_sample_size: int = 512
    heads: Callable[[Sequence[int]], int | tuple[int, ...]] = lambda widths: 8
    # extra conditioning vector (SDXL's pooled text + size/crop ids): (options, batch, height, width)
    # -> dict of UNet added_cond_kwargs, or None for families without one
    extra_conds: Callable[[dict, int, int, int], dict | None] | None = None
    time_ids: int = 0  # how many numbers extra_conds packs next to the pooled embedding
    schedule: Callable[[], Any] = None  # () -> DiscreteSchedule
    sampling: str = "discrete"  # how sigmas map to network timesteps
    # the network: its config read from the file's shapes ((network tensors without the checkpoint
    # prefix, family, pooled text width) -> config), its factory (config -> module, built on the
    # meta device) and its key converters (released names <-> the module's, given the config)
    read_config: Callable[[Mapping[str, Shape], ModelFamily, int | None], dict] = None
    network: Callable[[dict], torch.nn.Module] = None
    to_network: Callable[[Mapping[str, torch.Tensor], dict], dict] = None
    from_network: Callable[[Mapping[str, torch.Tensor], dict], dict] = None
    comfy_class: str = "BaseModel"  # ComfyUI's model_base class of this family (what packs test model.model for)
    # calls the network: (module, x, timestep, context, extra conds) -> output; None = a diffusers UNet
    forward: Callable[..., torch.Tensor] | None = None
    # joins the towers' outputs {tower name: (hidden [1, T, D], pooled)} into (cond, pooled); None =
    # hidden states concatenated on width, pooled from ``pooled_tower`` (SD1/SD2/SDXL)
    combine_text: Callable[[dict], tuple] | None = None
    input_key: str = "input_blocks.0.0.weight"  # the network's first tensor: its dim 1 is the input width
    patch_channels: int = 1  # network input features per latent channel (Flux packs 2x2 patches: 4)
    # transformer families: network config -> {network module: (released module, first row, rows)},
    # how LoRAs in the released layout (kohya) find their weights; None = the UNet tables
    lora_names: Callable[[dict], dict] | None = None
    # transformer families: does a diffusers folder's transformer/config.json describe this family?
    diffusers_match: Callable[[dict], bool] | None = None

    @property
    def latent_channels(self) -> int:
        return self.latent_format.channels

    def tower(self, name: str) -> TextTower | None:
        return next((t for t in self.text_towers if t.name == name), None)

    def variant(self, prediction: str | None = None, inpaint: bool | None = None) -> ModelFamily:
        """The registered variant of this family's base with that prediction / inpainting."""
        base = self.base or self.name
        want = (prediction or self.prediction, self.inpaint if inpaint is None else inpaint)
        for family in FAMILIES:
            if (family.base or family.name) == base and (family.prediction, family.inpaint) == want:
                return family
        name = base + ("_v" if want[0] == "v" else "") + ("_inpaint" if want[1] else "")
        return dataclasses.replace(self, name=name, base=base, prediction=want[0], inpaint=want[1])


FAMILIES: list[ModelFamily] = []  # most specific first; filled by families_sd and later modules


def register(*families: ModelFamily, first: bool = False) -> None:
    """Add families; ``first`` puts them ahead of those registered so far (more specific rules)."""
    if first:
        FAMILIES[:0] = families
    else:
        FAMILIES.extend(families)


def family_named(name: str) -> ModelFamily:
    _load()
    for family in FAMILIES:
        if family.name == name:
            return family
    raise ValueError(f"unknown model family {name!r}; known: {', '.join(f.name for f in FAMILIES)}")


def recognise(found: Recognition) -> ModelFamily:
    """The base family whose recognition rule matches (variants are chosen by the caller)."""
    _load()
    for family in FAMILIES:
        if not family.base and family.recognise(found):
            return family
    raise ValueError(
        "no known model family matches this checkpoint's UNet and text encoders "
        f"(known: {', '.join(f.name for f in FAMILIES if not f.base)})"
    )


def family_for_transformer(config: dict) -> ModelFamily:
    """The family of a diffusers folder's transformer (its config.json)."""
    _load()
    for family in FAMILIES:
        if family.diffusers_match is not None and family.diffusers_match(config):
            return family
    raise ValueError(f"transformer class {config.get('_class_name')!r} is not a model family NodeFlow knows")


def family_for_context(context_dim: int) -> ModelFamily:
    """A base family by cross-attention width (diffusers folders, which name no family)."""
    _load()
    for family in FAMILIES:
        if not family.base and family.context_dim == context_dim:
            return family
    return family_named("sd1")


def _load() -> None:
    from . import families_flow, families_sd  # noqa: F401  (register on first import)

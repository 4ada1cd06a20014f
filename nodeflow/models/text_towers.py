"""Text towers stored in transformers' own layout (CLIP-L / CLIP-G with ``text_model.*`` names, T5
encoders with ``encoder.block.*``): recognised from a file's shapes, built from its tensors, and
joined into the CLIP object of a family (SD3, Flux, SDXL from separate files). Used by the
DualCLIPLoader / TripleCLIPLoader / CLIPLoader nodes and by all-in-one SD3/Flux checkpoints."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .checkpoint_file import ModelFileError
from .family import ModelFamily, TextTower, family_named
from .patching import PatchedModule

TOKEN_HF = "text_model.embeddings.token_embedding.weight"
T5_KEY = "encoder.block.0.layer.0.SelfAttention.q.weight"


def file_kind(shapes: Mapping[str, tuple[int, ...]]) -> str:
    """ "t5xxl", "clip_l" or "clip_g" (transformers layout) for a standalone text-encoder file, or ""
    when it is in another layout (OpenCLIP, SD checkpoint prefixes: the older loader reads those)."""
    if T5_KEY in shapes:
        return "t5xxl"
    if TOKEN_HF in shapes:
        width = shapes[TOKEN_HF][1]
        if width in (768, 1280):  # the released CLIP-L and CLIP-G
            return "clip_l" if width == 768 else "clip_g"
        return "clip_g" if "text_projection.weight" in shapes else "clip_l"  # other sizes: G has its projection
    return ""


def _hf_clip(state: Mapping[str, torch.Tensor], tower: TextTower, dtype: torch.dtype, what: str):
    from .convert_clip import clip_l_to_hf
    from .detect import _clip_l_config, clip_config_kwargs
    from .loader import build_module, clip_text_factory

    state = {k.removeprefix("transformer."): v for k, v in state.items() if not k.endswith("logit_scale")}
    projection = state.pop("text_projection.weight", None)
    body = clip_l_to_hf(state)
    if tower.projection:  # the class with projection keeps the text_model. level
        from .convert_clip import hf_text_layout

        plain, projected = hf_text_layout(False)[0], hf_text_layout(True)[0]
        body = {projected + k[len(plain) :]: v for k, v in body.items()}
    cfg = _clip_l_config({k.removeprefix("text_model."): tuple(v.shape) for k, v in state.items()})
    cfg["hidden_act"] = "gelu" if tower.name == "clip_g" else "quick_gelu"  # OpenCLIP bigG vs OpenAI CLIP-L
    if not tower.pad_with_eos:
        cfg.update(pad_token_id=0)
    factory = clip_text_factory(clip_config_kwargs(cfg), tower.projection)
    if tower.projection:
        if projection is None:  # ComfyUI treats a missing projection as identity
            projection = torch.eye(cfg["hidden_size"], dtype=next(iter(body.values())).dtype)
        body["text_projection.weight"] = projection
    return build_module(factory, body, dtype, what)


def tower_from_state(state: Mapping[str, torch.Tensor], tower: TextTower, dtype: torch.dtype, source: str):
    """One family tower (a CLIP TextEncoder or a T5Tower) from its tensors (transformers names)."""
    from .loader import text_encoder_for
    from .t5_encoder import T5Tower, build_t5

    what = f"{source}: {tower.name} text encoder"
    try:
        if tower.kind == "t5":
            state = {k.removeprefix("transformer."): v for k, v in state.items()}
            return T5Tower(PatchedModule(build_t5(state, dtype)), tower.name, min_length=tower.max_tokens)
        return text_encoder_for(PatchedModule(_hf_clip(state, tower, dtype, what)), tower)
    except (KeyError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{what} could not be built ({exc})") from None


def released_tower_state(state: Mapping[str, torch.Tensor], tower: TextTower) -> dict[str, torch.Tensor]:
    """A transformers-layout tower's module tensors under the names an all-in-one SD3 / Flux file
    gives them (``tower.prefix`` + transformers names): T5 without its tied ``encoder.embed_tokens``
    copy, CLIP with a ``text_projection`` (identity for a tower loaded without one, which ComfyUI
    reads the same way) as ComfyUI's saves lay them out."""
    out = {k: v for k, v in state.items() if not k.endswith("position_ids")}
    if tower.kind == "t5":
        out.pop("encoder.embed_tokens.weight", None)
    else:  # the text body under text_model. whatever level the installed transformers class keeps it at
        out = {
            k if k == "text_projection.weight" or k.startswith("text_model.") else "text_model." + k: v
            for k, v in out.items()
        }
        if "text_projection.weight" not in out:
            norm = out["text_model.final_layer_norm.weight"]
            out["text_projection.weight"] = torch.eye(norm.shape[0], dtype=norm.dtype)
    return {tower.prefix + k: v for k, v in out.items()}


# the family each CLIPLoader / DualCLIPLoader / TripleCLIPLoader type makes
CLIP_TYPE_FAMILIES = {"sd3": "sd3", "flux": "flux", "sdxl": "sdxl", "stable_diffusion": "sd1"}


def clip_from_files(states: list[tuple[str, dict[str, torch.Tensor]]], clip_type: str, manager=None):
    """A CLIP of family ``clip_type`` from standalone text-encoder files, each [(name, tensors)];
    every file is recognised by its shapes and becomes the family's tower of that kind."""
    from .loader import make_clip

    if clip_type not in CLIP_TYPE_FAMILIES:
        raise ModelFileError(
            f"CLIP type {clip_type!r} is not supported by NodeFlow; use one of {', '.join(CLIP_TYPE_FAMILIES)}"
        )
    family: ModelFamily = family_named(CLIP_TYPE_FAMILIES[clip_type])
    dtype = manager.dtype("text") if manager is not None else torch.float32
    encoders, seen = [], set()
    for name, state in states:
        kind = file_kind({k: tuple(v.shape) for k, v in state.items()})
        tower = family.tower(kind) if kind else None
        if tower is None:
            wanted = ", ".join(t.name for t in family.text_towers)
            found = kind or "not a CLIP-L / CLIP-G / T5 file in transformers layout"
            raise ModelFileError(f"{name}: {found}; a {clip_type} CLIP takes {wanted}")
        if kind in seen:
            raise ModelFileError(
                f"{name}: two {kind} files given; a {clip_type} CLIP takes one of each of "
                f"{', '.join(t.name for t in family.text_towers)}"
            )
        seen.add(kind)
        if tower.kind == "open_clip":  # SDXL's CLIP-G as a transformers file
            tower = TextTower(
                tower.name,
                tower.prefix,
                "hf_clip",
                tower.layer,
                tower.pad_with_eos,
                tower.final_norm_on_hidden,
                projection=True,
            )
        encoders.append(tower_from_state(state, tower, dtype, name))
    order = [t.name for t in family.text_towers]
    encoders.sort(key=lambda e: order.index(e.name))
    return make_clip(encoders, family, manager)

"""Text-encoder weights: checkpoint layouts <-> transformers ``CLIPTextModel(WithProjection)`` names (which
NodeFlow's own ``nets.clip_text`` classes share).

* CLIP-L in SD checkpoints already uses Hugging Face names (``embeddings.*``, ``encoder.layers.N.*``,
  ``final_layer_norm.*``); only the ``text_model.`` level and ``position_ids`` differ between versions.
* OpenCLIP (SD2's ViT-H, SDXL's ViT-bigG) stacks q/k/v in ``attn.in_proj_*`` and stores
  ``text_projection`` as a [width, proj] matrix used as ``x @ P``; HF keeps a Linear of shape [proj, width].

The target names are taken from NodeFlow's own text classes (probed once on the meta device; they follow
transformers 5: ``text_model.`` only under the projection class, ``position_ids`` not saved).
Split q/k/v and transposed projections are views of the inputs; clone them before saving to a file.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping

import torch

POSITION_IDS = "embeddings.position_ids"
OPEN_CLIP_LOGIT_SCALE = math.log(1 / 0.07)  # OpenCLIP's initial value; stored by SD2/SDXL files

_LAYER_NAMES = {  # OpenCLIP resblock part -> HF encoder layer part (q/k/v handled separately)
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "attn.out_proj": "self_attn.out_proj",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
}
_TOP_NAMES = {
    "token_embedding.weight": "embeddings.token_embedding.weight",
    "positional_embedding": "embeddings.position_embedding.weight",
    "ln_final.weight": "final_layer_norm.weight",
    "ln_final.bias": "final_layer_norm.bias",
}
_DROPPED = ("logit_scale", "attn_mask")  # OpenCLIP extras with no HF counterpart


@functools.cache
def hf_text_layout(with_projection: bool) -> tuple[str, bool]:
    """(prefix before ``embeddings.``, whether ``position_ids`` is in the state dict) of the text class NodeFlow builds."""
    from .nets.clip_text import ClipTextConfig, text_model_class

    cfg = ClipTextConfig(
        hidden_size=8,
        intermediate_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        vocab_size=8,
        max_position_embeddings=4,
        projection_dim=8,
    )
    with torch.device("meta"):
        keys = list(text_model_class(with_projection)(cfg).state_dict())
    tok = next(k for k in keys if k.endswith("embeddings.token_embedding.weight"))
    prefix = tok[: -len("embeddings.token_embedding.weight")]
    return prefix, any(k.endswith(POSITION_IDS) for k in keys)


def _position_ids(sd: Mapping[str, torch.Tensor], pos_key: str) -> torch.Tensor:
    pos = sd[pos_key]
    return torch.arange(pos.shape[0], dtype=torch.int64, device=pos.device).unsqueeze(0)


def _strip_clip_l(key: str) -> str:
    for head in ("transformer.", "text_model."):
        if key.startswith(head):
            key = key[len(head) :]
    return key


def clip_l_to_hf(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CLIP-L from a checkpoint (keys after ``…transformer.text_model.``; a leftover
    ``transformer.``/``text_model.`` is tolerated) -> installed ``CLIPTextModel`` names.
    ``position_ids`` is dropped, or added when the installed class saves it."""
    prefix, wants_ids = hf_text_layout(False)
    out = {prefix + _strip_clip_l(k): v for k, v in sd.items() if _strip_clip_l(k) != POSITION_IDS}
    if wants_ids:
        out[prefix + POSITION_IDS] = _position_ids(out, prefix + "embeddings.position_embedding.weight")
    return out


def clip_l_from_hf(sd: Mapping[str, torch.Tensor], position_ids: bool = False) -> dict[str, torch.Tensor]:
    """``CLIPTextModel`` names -> checkpoint CLIP-L names (to go under ``…transformer.text_model.``).

    ``position_ids=True`` adds ``embeddings.position_ids`` (int64 [1, N]) as SDXL files carry it;
    SD1.5 files do not.
    """
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        k = k[len("text_model.") :] if k.startswith("text_model.") else k
        if k != POSITION_IDS:
            out[k] = v
    if position_ids:
        out[POSITION_IDS] = _position_ids(out, "embeddings.position_embedding.weight")
    return out


def open_clip_to_hf(sd: Mapping[str, torch.Tensor], num_layers: int | None = None) -> dict[str, torch.Tensor]:
    """OpenCLIP text tower (keys after ``…model.``) -> ``CLIPTextModelWithProjection`` names.

    ``num_layers`` keeps only the first N resblocks (default: all of them); ``logit_scale`` and
    ``attn_mask`` are dropped.  Unknown names raise ``ValueError``.
    """
    prefix, wants_ids = hf_text_layout(True)
    layer_rx = re.compile(r"transformer\.resblocks\.(\d+)\.(.+)[._](weight|bias)$")  # in_proj_weight too
    present = {int(m.group(1)) for k in sd if (m := layer_rx.match(k))}
    n = len(present) if num_layers is None else num_layers
    if set(range(n)) - present:
        raise ValueError(f"OpenCLIP: expected resblocks 0..{n - 1}, found {sorted(present)}")
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, t in sd.items():
        if key in _TOP_NAMES:
            out[prefix + _TOP_NAMES[key]] = t
        elif key == "text_projection":
            out["text_projection.weight"] = t.t()
        elif key in _DROPPED:
            continue
        elif m := layer_rx.match(key):
            i, part, param = int(m.group(1)), m.group(2), m.group(3)
            if i >= n:
                continue
            base = f"{prefix}encoder.layers.{i}."
            if part == "attn.in_proj":
                q, k, v = t.chunk(3, dim=0)
                for name, piece in (("q_proj", q), ("k_proj", k), ("v_proj", v)):
                    out[f"{base}self_attn.{name}.{param}"] = piece
            elif part in _LAYER_NAMES:
                out[f"{base}{_LAYER_NAMES[part]}.{param}"] = t
            else:
                unknown.append(key)
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f"OpenCLIP: unexpected tensor name(s): {', '.join(unknown[:5])}")
    if wants_ids:
        out[prefix + POSITION_IDS] = _position_ids(out, prefix + "embeddings.position_embedding.weight")
    return out


def open_clip_from_hf(sd: Mapping[str, torch.Tensor], logit_scale: float | None = None) -> dict[str, torch.Tensor]:
    """``CLIPTextModelWithProjection`` names -> OpenCLIP names (to go under ``…model.``).

    q/k/v are stacked back into ``in_proj``; pass ``logit_scale`` (e.g. ``OPEN_CLIP_LOGIT_SCALE``)
    to add that scalar, which released SD2/SDXL files carry but the HF text model does not.
    """
    top = {v: k for k, v in _TOP_NAMES.items()}
    layer = {v: k for k, v in _LAYER_NAMES.items()}
    layer_rx = re.compile(r"encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$")
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    unknown: list[str] = []
    for key, t in sd.items():
        k = key[len("text_model.") :] if key.startswith("text_model.") else key
        if k == POSITION_IDS:
            continue
        if k == "text_projection.weight":
            out["text_projection"] = t.t()
        elif k in top:
            out[top[k]] = t
        elif m := layer_rx.match(k):
            i, part, param = int(m.group(1)), m.group(2), m.group(3)
            base = f"transformer.resblocks.{i}."
            if part in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                qkv.setdefault((i, param), {})[part[-6]] = t
            elif part in layer:
                out[f"{base}{layer[part]}.{param}"] = t
            else:
                unknown.append(key)
        else:
            unknown.append(key)
    for (i, param), parts in sorted(qkv.items()):
        if set(parts) != {"q", "k", "v"}:
            raise ValueError(f"OpenCLIP: layer {i} {param} lacks one of q/k/v")
        out[f"transformer.resblocks.{i}.attn.in_proj_{param}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    if unknown:
        raise ValueError(f"CLIPTextModelWithProjection: unexpected tensor name(s): {', '.join(unknown[:5])}")
    if logit_scale is not None:
        ref = out["token_embedding.weight"]
        out["logit_scale"] = torch.tensor(logit_scale, dtype=ref.dtype, device=ref.device)
    return out

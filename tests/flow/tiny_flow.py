"""Tiny random SD3.5 / Flux.1 files in the released layouts, made by scaling down the reference
manifests (tests/data/*_keys.json.gz): the released tensor names are kept, blocks are dropped (the
last one renamed into place, so SD3's "pre-only" last context block stays last), and every width is
mapped to a small one. The files are written as the released ones are: an SD3.5 single file
(MMDiT + VAE, optionally with text_encoders.*), a Flux transformer alone, the Flux VAE alone, and
CLIP-L / CLIP-G / T5-XXL text-encoder files."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parents[1] / "data"
DTYPES = {"F16": torch.float16, "F32": torch.float32, "BF16": torch.bfloat16, "I64": torch.int64}

# released width -> tiny width, per component (head widths are mapped by key, see _shape)
MMDIT = {1536: 64, 4608: 192, 6144: 256, 9216: 384, 13824: 576, 3072: 128, 2048: 96, 4096: 128, 147456: 1024}
FLUX = {3072: 64, 9216: 192, 12288: 256, 18432: 384, 21504: 448, 15360: 320, 6144: 128, 4096: 128, 768: 32}
VAE = {128: 16, 256: 32, 512: 64}
CLIP_L = {768: 32, 3072: 64}
CLIP_G = {1280: 64, 5120: 128}
T5 = {4096: 128, 10240: 256}
HEADS = {"ln_q.weight": 16, "ln_k.weight": 16, "query_norm.scale": 16, "key_norm.scale": 16}


def manifest(name: str) -> dict:
    return json.loads(gzip.decompress((DATA / f"{name}.json.gz").read_bytes()))


def _shape(key: str, shape: list[int], widths: dict) -> list[int]:
    for tail, width in HEADS.items():
        if key.endswith(tail):
            return [width]
    if key.endswith("relative_attention_bias.weight"):
        return [shape[0], 4]  # 4 heads of 32
    return [widths.get(d, d) for d in shape]


def _blocks(keys: dict, pattern: str, keep: int) -> dict:
    """Keep blocks 0..keep-2 and the last block renamed to keep-1 (other keys as they are)."""
    rx = re.compile(pattern)
    indices = sorted({int(m.group(2)) for k in keys if (m := rx.match(k))})
    if not indices:
        return dict(keys)
    last = indices[-1]
    out = {}
    for key, value in keys.items():
        m = rx.match(key)
        if m is None:
            out[key] = value
            continue
        i = int(m.group(2))
        if i < keep - 1:
            out[key] = value
        elif i == last:
            out[key[: m.start(2)] + str(keep - 1) + key[m.end(2) :]] = value
    return out


def _tensor(key: str, shape: list[int], dtype: str, g: torch.Generator) -> torch.Tensor:
    if dtype == "I64":
        return torch.arange(shape[-1], dtype=torch.int64).expand(*shape).contiguous()
    one_d = len(shape) == 1
    if one_d and re.search(r"(norm|ln_|layer_norm)[^.]*\.(weight|scale)$|norm\.weight$|_norm\.scale$", key):
        return torch.ones(shape, dtype=DTYPES[dtype])
    return (torch.randn(shape, generator=g) * 0.05).to(DTYPES[dtype])


def scaled(keys: dict, widths: dict, seed: int, dtype: str | None = None, prefix_map=None) -> dict:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key, (shape, stored) in sorted(keys.items()):
        w = widths
        for prefix, table in (prefix_map or {}).items():
            if key.startswith(prefix):
                w = table
        out[key] = _tensor(key, _shape(key, shape, w), dtype or stored, g)
    return out


def sd35_medium_state(seed: int = 0, with_text: bool = False) -> dict[str, torch.Tensor]:
    ref = manifest("sd35_medium_checkpoint_keys")
    keys = _blocks(ref["keys"], r"(model\.diffusion_model\.joint_blocks\.)(\d+)\.", 3)
    state = scaled(keys, MMDIT, seed, "F32", {"first_stage_model.": VAE})
    if with_text:
        text = dict(ref["text_encoder_keys"].items())
        for tower, widths, layers in (("clip_l", CLIP_L, 2), ("clip_g", CLIP_G, 2), ("t5xxl", T5, 2)):
            part = {k: v for k, v in text.items() if k.startswith(f"text_encoders.{tower}.")}
            pattern = r"(.*?(?:encoder\.layers|encoder\.block)\.)(\d+)\."
            state.update(scaled(_blocks(part, pattern, layers), widths, seed + 1, "F32"))
    return state


def flux_state(variant: str = "dev", seed: int = 0) -> dict[str, torch.Tensor]:
    ref = manifest(f"flux1_{variant}_keys")
    keys = _blocks(ref["keys"], r"(double_blocks\.)(\d+)\.", 2)
    keys = _blocks(keys, r"(single_blocks\.)(\d+)\.", 2)
    return scaled(keys, FLUX, seed, "F32")


def vae_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """The Flux VAE (ae.safetensors layout), narrow."""
    return scaled(manifest("flux_ae_keys")["keys"], VAE, seed, "F32")


def text_encoder_state(kind: str, seed: int = 0) -> dict[str, torch.Tensor]:
    name, widths = {
        "clip_l": ("clip_l_text_encoder_keys", CLIP_L),
        "clip_g": ("clip_g_text_encoder_keys", CLIP_G),
        "t5xxl": ("t5xxl_encoder_keys", T5),
    }[kind]
    keys = _blocks(manifest(name)["keys"], r"(.*?(?:encoder\.layers|encoder\.block)\.)(\d+)\.", 2)
    return scaled(keys, widths, seed, "F32")


def save(state: dict, path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path

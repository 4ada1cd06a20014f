"""Checkpoint detection and original-layout <-> diffusers / transformers weight names.

The released SD1.5 / SDXL name+shape lists are checked against the state dicts of models built
(on the meta device) from the detected configs; tiny random models check that weights really
land in the right place (identical forward outputs after a round trip through the original names).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from nodeflow.models.convert_clip import (
    OPEN_CLIP_LOGIT_SCALE,
    clip_l_from_hf,
    clip_l_to_hf,
    hf_text_layout,
    open_clip_from_hf,
    open_clip_to_hf,
)
from nodeflow.models.convert_unet import unet_from_diffusers, unet_to_diffusers
from nodeflow.models.convert_vae import vae_from_diffusers, vae_to_diffusers
from nodeflow.models.detect import clip_config_kwargs, detect_checkpoint

REFERENCE = Path(__file__).resolve().parents[1] / "data"  # copied from shared/reference
DTYPES = {"F16": torch.float16, "F32": torch.float32, "I64": torch.int64}
VAE_TYPES = {"down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4}


@functools.cache
def reference(name: str) -> dict[str, torch.Tensor]:
    """A released checkpoint's tensors as meta tensors (names, shapes and dtypes only)."""
    path = REFERENCE / f"{name}_checkpoint_keys.json.gz"
    if not path.exists():
        pytest.skip(f"reference key list {path} not available")
    keys = json.loads(gzip.decompress(path.read_bytes()))["keys"]
    return {k: torch.empty(shape, dtype=DTYPES[dt], device="meta") for k, (shape, dt) in keys.items()}


def shapes(sd):
    return {k: tuple(v.shape) for k, v in sd.items()}


def sub(sd, prefix):
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def prefixed(sd, prefix):
    return {prefix + k: v for k, v in sd.items()}


def assert_same_names(got, want):
    g, w = shapes(got), shapes(want)
    missing, unexpected = sorted(w.keys() - g.keys()), sorted(g.keys() - w.keys())
    wrong = sorted(k for k in g.keys() & w.keys() if g[k] != w[k])
    assert not (missing or unexpected or wrong), {
        "missing": missing[:8],
        "unexpected": unexpected[:8],
        "wrong shape": [(k, g[k], w[k]) for k in wrong[:8]],
    }


def text_model(cfg):
    cls = CLIPTextModel if cfg["kind"] == "clip_l" else CLIPTextModelWithProjection
    return cls(CLIPTextConfig(**clip_config_kwargs(cfg)))


def to_hf(cfg, sd):
    return clip_l_to_hf(sd) if cfg["kind"] == "clip_l" else open_clip_to_hf(sd, cfg["num_hidden_layers"])


def from_hf(cfg, sd, original_keys):
    """Back to checkpoint names, re-adding the extras the original file had (explicitly)."""
    if cfg["kind"] == "clip_l":
        return clip_l_from_hf(sd, position_ids="embeddings.position_ids" in original_keys)
    return open_clip_from_hf(sd, logit_scale=OPEN_CLIP_LOGIT_SCALE if "logit_scale" in original_keys else None)


# ----------------------------------------------------------------------------- detection


def test_detect_sd15():
    info = detect_checkpoint(shapes(reference("sd15")))
    assert (info.family.name, info.inpaint, info.prediction) == ("sd1", False, "eps")
    u = info.unet_config
    assert u["block_out_channels"] == (320, 640, 1280, 1280) and u["cross_attention_dim"] == 768
    assert u["down_block_types"] == ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",)
    assert u["up_block_types"] == ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3
    assert (u["layers_per_block"], u["transformer_layers_per_block"], u["attention_head_dim"]) == (2, 1, 8)
    assert u["use_linear_projection"] is False and "addition_embed_type" not in u
    assert info.vae_config["block_out_channels"] == (128, 256, 512, 512)
    assert info.vae_config["layers_per_block"] == 2 and info.vae_config["latent_channels"] == 4
    [clip] = info.text_configs
    assert (clip["kind"], clip["hidden_size"], clip["num_hidden_layers"], clip["num_attention_heads"]) == (
        "clip_l",
        768,
        12,
        12,
    )
    assert clip["hidden_act"] == "quick_gelu" and clip["intermediate_size"] == 3072
    assert (clip["vocab_size"], clip["bos_token_id"], clip["eos_token_id"]) == (49408, 49406, 49407)
    assert info.prefixes == {
        "unet": "model.diffusion_model.",
        "vae": "first_stage_model.",
        "text_encoder": "cond_stage_model.transformer.text_model.",
    }


def test_detect_sdxl():
    info = detect_checkpoint(shapes(reference("sdxl")))
    assert (info.family.name, info.inpaint, info.prediction) == ("sdxl", False, "eps")
    u = info.unet_config
    assert u["block_out_channels"] == (320, 640, 1280) and u["cross_attention_dim"] == 2048
    assert u["down_block_types"] == ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D")
    assert u["transformer_layers_per_block"] == (1, 2, 10)  # level 0 has no attention: 1 is a placeholder
    assert u["attention_head_dim"] == (5, 10, 20) and u["use_linear_projection"] is True
    assert (u["addition_embed_type"], u["addition_time_embed_dim"], u["projection_class_embeddings_input_dim"]) == (
        "text_time",
        256,
        2816,
    )
    clip_l, big_g = info.text_configs
    assert (clip_l["kind"], clip_l["hidden_size"]) == ("clip_l", 768)
    assert (
        big_g["kind"],
        big_g["hidden_size"],
        big_g["num_hidden_layers"],
        big_g["num_attention_heads"],
        big_g["intermediate_size"],
        big_g["projection_dim"],
        big_g["hidden_act"],
    ) == ("open_clip", 1280, 32, 20, 5120, 1280, "gelu")
    assert info.prefixes["text_encoder_2"] == "conditioner.embedders.1.model."


def test_inpaint_and_v_prediction_flags():
    s = shapes(reference("sd15"))
    s["model.diffusion_model.input_blocks.0.0.weight"] = (320, 9, 3, 3)
    s["v_pred"] = ()
    info = detect_checkpoint(s)
    assert info.inpaint and info.prediction == "v" and info.unet_config["in_channels"] == 9


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"conv_in.weight": (320, 4, 3, 3), "time_embedding.linear_1.weight": (1280, 320)},
        {"encoder.conv_in.weight": (128, 3, 3, 3)},
    ],
)
def test_not_a_checkpoint(bad):
    with pytest.raises(ValueError, match=r"no model\.diffusion_model\.\* tensors: not a Stable Diffusion checkpoint"):
        detect_checkpoint(bad)


def test_config_that_does_not_fit_is_rejected():
    sd15 = sub(reference("sd15"), "model.diffusion_model.")
    sdxl_cfg = detect_checkpoint(shapes(reference("sdxl"))).unet_config
    with pytest.raises(ValueError, match="do not fit the given config"):
        unet_to_diffusers(sd15, sdxl_cfg)


# ----------------------------------------------------------------------------- released names


@pytest.mark.parametrize("name", ["sd15", "sdxl"])
def test_released_names_match_diffusers_and_transformers(name):
    ref = reference(name)
    info = detect_checkpoint(shapes(ref))
    covered = [k for k in ref if any(k.startswith(p) for p in info.prefixes.values())]
    assert len(covered) == len(ref)  # every tensor belongs to a detected component
    with torch.device("meta"):
        unet = UNet2DConditionModel(**info.unet_config)
        vae = AutoencoderKL(**info.vae_config)
        texts = [text_model(cfg) for cfg in info.text_configs]

    orig_unet = sub(ref, info.prefixes["unet"])
    diff_unet = unet_to_diffusers(orig_unet, info.unet_config)
    assert_same_names(diff_unet, unet.state_dict())
    assert_same_names(unet_from_diffusers(diff_unet, info.unet_config), orig_unet)

    orig_vae = sub(ref, info.prefixes["vae"])
    diff_vae = vae_to_diffusers(orig_vae, info.vae_config)
    assert_same_names(diff_vae, vae.state_dict())
    assert_same_names(vae_from_diffusers(diff_vae, info.vae_config), orig_vae)

    _, hf_saves_ids = hf_text_layout(False)
    for cfg, model in zip(info.text_configs, texts, strict=False):
        orig = sub(ref, cfg["prefix"])
        hf = to_hf(cfg, orig)
        assert_same_names(hf, model.state_dict())
        assert any(k.endswith("position_ids") for k in hf) == hf_saves_ids
        assert_same_names(from_hf(cfg, hf, orig), orig)
    if name == "sdxl":  # the released CLIP-L carries position_ids, SD1.5's does not
        assert "conditioner.embedders.0.transformer.text_model.embeddings.position_ids" in ref
    else:
        assert not any("position_ids" in k for k in ref)


# The diffusers configs published for SD2 and the SDXL refiner: synthesise original names from
# them and check that detection recovers an equivalent model (no reference key files for these).
SD2_UNET = {
    "sample_size": 96,
    "block_out_channels": (320, 640, 1280, 1280),
    "cross_attention_dim": 1024,
    "attention_head_dim": (5, 10, 20, 20),
    "use_linear_projection": True,
}
REFINER_UNET = {
    "sample_size": 128,
    "block_out_channels": (384, 768, 1536, 1536),
    "cross_attention_dim": 1280,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "transformer_layers_per_block": 4,
    "attention_head_dim": (6, 12, 24, 24),
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2560,
}
VIT_H = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "projection_dim": 1024,
    "hidden_act": "gelu",
}
VIT_BIGG = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "projection_dim": 1280,
    "hidden_act": "gelu",
}


@pytest.mark.parametrize(
    "family,unet_cfg,text_cfg,text_prefix",
    [
        ("sd2", SD2_UNET, VIT_H, "cond_stage_model.model."),
        ("sdxl_refiner", REFINER_UNET, VIT_BIGG, "conditioner.embedders.0.model."),
    ],
)
def test_sd2_and_refiner_from_published_configs(family, unet_cfg, text_cfg, text_prefix):
    vae_cfg = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, **VAE_TYPES)
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_cfg)
        text = CLIPTextModelWithProjection(CLIPTextConfig(**text_cfg))
        vae = AutoencoderKL(**vae_cfg)
    ckpt = {
        **prefixed(unet_from_diffusers(unet.state_dict(), unet_cfg), "model.diffusion_model."),
        **prefixed(vae_from_diffusers(vae.state_dict(), vae_cfg), "first_stage_model."),
        **prefixed(open_clip_from_hf(text.state_dict()), text_prefix),
    }
    info = detect_checkpoint(shapes(ckpt))
    assert info.family.name == family and info.unet_config["cross_attention_dim"] == unet_cfg["cross_attention_dim"]
    assert info.unet_config["attention_head_dim"] == unet_cfg["attention_head_dim"]
    [t] = info.text_configs
    assert {k: t[k] for k in text_cfg} == text_cfg
    with torch.device("meta"):
        rebuilt = UNet2DConditionModel(**info.unet_config)
    assert_same_names(unet_to_diffusers(sub(ckpt, "model.diffusion_model."), info.unet_config), rebuilt.state_dict())
    assert_same_names(unet.state_dict(), rebuilt.state_dict())


# ----------------------------------------------------------------------------- real tiny weights


def randomize(*models):
    torch.manual_seed(0)
    with torch.no_grad():
        for m in models:
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.05)  # zero-initialised layers must carry signal too
            m.eval()


def rebuild(info, ckpt):
    """Models built from the detected configs, loaded strictly from the checkpoint names."""
    unet = UNet2DConditionModel(**info.unet_config)
    unet.load_state_dict(unet_to_diffusers(sub(ckpt, info.prefixes["unet"]), info.unet_config), strict=True)
    vae = AutoencoderKL(**info.vae_config)
    vae.load_state_dict(vae_to_diffusers(sub(ckpt, info.prefixes["vae"]), info.vae_config), strict=True)
    texts = []
    for cfg in info.text_configs:
        model = text_model(cfg)
        model.load_state_dict(to_hf(cfg, sub(ckpt, cfg["prefix"])), strict=True)
        texts.append(model.eval())
    return unet.eval(), vae.eval(), texts


def tiny_vae():
    cfg = dict(
        block_out_channels=(32, 64, 64, 64), layers_per_block=1, latent_channels=4, norm_num_groups=32, **VAE_TYPES
    )
    return cfg, AutoencoderKL(**cfg)


def tiny_clip(hidden, layers, with_projection=False, **extra):
    cfg = CLIPTextConfig(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        vocab_size=100,
        max_position_embeddings=16,
        eos_token_id=99,
        **extra,
    )
    return (CLIPTextModelWithProjection if with_projection else CLIPTextModel)(cfg)


def same_outputs(a, b, *args, **kwargs):
    with torch.no_grad():
        return torch.equal(a(*args, **kwargs), b(*args, **kwargs))


def check_vae(vae, vae2):
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mean
        assert torch.equal(z, vae2.encode(x).latent_dist.mean)
        assert torch.equal(vae.decode(z).sample, vae2.decode(z).sample)


IDS = torch.tensor([[3, 17, 42, 8, 99, 0, 0, 0]])


@pytest.mark.slow  # 4-7 s of CPU: a checkpoint round trip with forward passes
def test_tiny_sd1_round_trip_gives_identical_outputs():
    unet_cfg = {
        "sample_size": 8,
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "cross_attention_dim": 32,
        "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
        "attention_head_dim": 8,
        "norm_num_groups": 32,
    }
    unet = UNet2DConditionModel(**unet_cfg)
    vae_cfg, vae = tiny_vae()
    clip = tiny_clip(64, 3)
    randomize(unet, vae, clip)
    ckpt = {
        **prefixed(unet_from_diffusers(unet.state_dict(), unet_cfg), "model.diffusion_model."),
        **prefixed(vae_from_diffusers(vae.state_dict(), vae_cfg), "first_stage_model."),
        **prefixed(clip_l_from_hf(clip.state_dict()), "cond_stage_model.transformer.text_model."),
    }
    assert ckpt["first_stage_model.encoder.mid.attn_1.q.weight"].shape == (64, 64, 1, 1)
    assert ckpt["model.diffusion_model.input_blocks.1.1.proj_in.weight"].shape == (32, 32, 1, 1)

    info = detect_checkpoint(shapes(ckpt))
    assert info.family.name == "sd1" and info.vae_config["block_out_channels"] == (32, 64, 64, 64)
    for key in (
        "block_out_channels",
        "layers_per_block",
        "down_block_types",
        "up_block_types",
        "cross_attention_dim",
        "attention_head_dim",
        "norm_num_groups",
    ):
        assert info.unet_config[key] == unet_cfg[key], key
    unet2, vae2, [clip2] = rebuild(info, ckpt)

    x, t, ctx = torch.randn(2, 4, 8, 8), torch.tensor([10, 500]), torch.randn(2, 5, 32)
    assert same_outputs(lambda *a: unet(*a).sample, lambda *a: unet2(*a).sample, x, t, ctx)
    check_vae(vae, vae2)
    assert same_outputs(lambda i: clip(i).last_hidden_state, lambda i: clip2(i).last_hidden_state, IDS)


@pytest.mark.slow  # 4-7 s of CPU: a checkpoint round trip with forward passes
def test_tiny_sdxl_round_trip_gives_identical_outputs():
    """Linear proj_in/out, transformer depth 2, text_time embedding, CLIP-L + OpenCLIP encoders."""
    pooled, time_dim = 32, 8
    unet_cfg = {
        "sample_size": 8,
        "block_out_channels": (32, 64),
        "layers_per_block": 2,
        "cross_attention_dim": 96,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "transformer_layers_per_block": (1, 2),
        "attention_head_dim": (1, 1),
        "use_linear_projection": True,
        "norm_num_groups": 32,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": time_dim,
        "projection_class_embeddings_input_dim": pooled + 6 * time_dim,
    }
    unet = UNet2DConditionModel(**unet_cfg)
    vae_cfg, vae = tiny_vae()
    clip_l = tiny_clip(32, 2)
    big_g = tiny_clip(64, 2, with_projection=True, projection_dim=pooled, hidden_act="gelu")
    randomize(unet, vae, clip_l, big_g)
    ckpt = {
        **prefixed(unet_from_diffusers(unet.state_dict(), unet_cfg), "model.diffusion_model."),
        **prefixed(vae_from_diffusers(vae.state_dict(), vae_cfg), "first_stage_model."),
        **prefixed(
            clip_l_from_hf(clip_l.state_dict(), position_ids=True), "conditioner.embedders.0.transformer.text_model."
        ),
        **prefixed(open_clip_from_hf(big_g.state_dict(), OPEN_CLIP_LOGIT_SCALE), "conditioner.embedders.1.model."),
    }
    assert ckpt["model.diffusion_model.middle_block.1.proj_in.weight"].shape == (64, 64)
    assert ckpt["conditioner.embedders.1.model.text_projection"].shape == (64, pooled)

    info = detect_checkpoint(shapes(ckpt))
    assert info.family.name == "sdxl"
    for key in (
        "block_out_channels",
        "layers_per_block",
        "down_block_types",
        "up_block_types",
        "transformer_layers_per_block",
        "cross_attention_dim",
        "attention_head_dim",
        "use_linear_projection",
        "addition_time_embed_dim",
        "projection_class_embeddings_input_dim",
    ):
        assert info.unet_config[key] == unet_cfg[key], key
    unet2, vae2, [clip_l2, big_g2] = rebuild(info, ckpt)

    x, t, ctx = torch.randn(2, 4, 8, 8), torch.tensor([10, 500]), torch.randn(2, 5, 96)
    cond = {"text_embeds": torch.randn(2, pooled), "time_ids": torch.randn(2, 6)}
    assert same_outputs(
        lambda *a: unet(*a, added_cond_kwargs=cond).sample,
        lambda *a: unet2(*a, added_cond_kwargs=cond).sample,
        x,
        t,
        ctx,
    )
    check_vae(vae, vae2)
    assert same_outputs(lambda i: clip_l(i).last_hidden_state, lambda i: clip_l2(i).last_hidden_state, IDS)
    assert same_outputs(lambda i: big_g(i).text_embeds, lambda i: big_g2(i).text_embeds, IDS)


def open_clip_reference(sd, ids, heads):
    """OpenCLIP's text tower written out by hand from the stacked in_proj weights."""
    width = sd["token_embedding.weight"].shape[1]
    n, length = len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.")}), ids.shape[1]
    x = sd["token_embedding.weight"][ids] + sd["positional_embedding"][:length]
    mask = torch.full((length, length), float("-inf")).triu(1)
    for i in range(n):
        p = f"transformer.resblocks.{i}."
        h = F.layer_norm(x, (width,), sd[p + "ln_1.weight"], sd[p + "ln_1.bias"])
        q, k, v = (h @ sd[p + "attn.in_proj_weight"].T + sd[p + "attn.in_proj_bias"]).split(width, dim=-1)
        q, k, v = (z.reshape(*z.shape[:2], heads, width // heads).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(width // heads) + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(x.shape)
        x = x + o @ sd[p + "attn.out_proj.weight"].T + sd[p + "attn.out_proj.bias"]
        h = F.layer_norm(x, (width,), sd[p + "ln_2.weight"], sd[p + "ln_2.bias"])
        h = F.gelu(h @ sd[p + "mlp.c_fc.weight"].T + sd[p + "mlp.c_fc.bias"])
        x = x + h @ sd[p + "mlp.c_proj.weight"].T + sd[p + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (width,), sd["ln_final.weight"], sd["ln_final.bias"])
    return x, x[torch.arange(x.shape[0]), ids.argmax(-1)] @ sd["text_projection"]


@pytest.mark.parametrize("heads", [1, 4])
def test_open_clip_qkv_split_matches_hand_written_attention(heads):
    torch.manual_seed(1)
    width, layers, proj, vocab = 64, 2, 48, 100
    sd = {
        "token_embedding.weight": torch.randn(vocab, width),
        "positional_embedding": torch.randn(16, width) * 0.1,
        "ln_final.weight": 1 + 0.1 * torch.randn(width),
        "ln_final.bias": 0.1 * torch.randn(width),
        "text_projection": torch.randn(width, proj) * 0.1,
        "logit_scale": torch.tensor(OPEN_CLIP_LOGIT_SCALE),
    }
    for i in range(layers):
        p = f"transformer.resblocks.{i}."
        for name, shape in (("ln_1.weight", (width,)), ("ln_2.weight", (width,))):
            sd[p + name] = 1 + 0.1 * torch.randn(shape)
        for name, shape in (
            ("ln_1.bias", (width,)),
            ("ln_2.bias", (width,)),
            ("attn.in_proj_weight", (3 * width, width)),
            ("attn.in_proj_bias", (3 * width,)),
            ("attn.out_proj.weight", (width, width)),
            ("attn.out_proj.bias", (width,)),
            ("mlp.c_fc.weight", (4 * width, width)),
            ("mlp.c_fc.bias", (4 * width,)),
            ("mlp.c_proj.weight", (width, 4 * width)),
            ("mlp.c_proj.bias", (width,)),
        ):
            sd[p + name] = 0.2 * torch.randn(shape)
    model = CLIPTextModelWithProjection(
        CLIPTextConfig(
            hidden_size=width,
            intermediate_size=4 * width,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            vocab_size=vocab,
            max_position_embeddings=16,
            projection_dim=proj,
            hidden_act="gelu",
            eos_token_id=99,
        )
    ).eval()
    model.load_state_dict(open_clip_to_hf(sd), strict=True)
    ids = torch.tensor([[5, 60, 7, 99, 0, 0], [11, 12, 13, 14, 15, 99]])
    want_hidden, want_pooled = open_clip_reference(sd, ids, heads)
    with torch.no_grad():
        out = model(ids)
    torch.testing.assert_close(out.last_hidden_state, want_hidden, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out.text_embeds, want_pooled, rtol=1e-4, atol=1e-5)
    back = open_clip_from_hf(model.state_dict(), logit_scale=OPEN_CLIP_LOGIT_SCALE)
    assert back.keys() == sd.keys() and all(torch.equal(back[k], sd[k]) for k in sd)

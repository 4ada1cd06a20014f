"""comfy.ops and comfy.ldm shims: layers that skip init and cast, every attention function against a
hand-written softmax attention (masks, layouts, overrides), the transformer blocks, the SD UNet
against NodeFlow's diffusers UNet with the same weights, and the embedding helpers."""

import math

import pytest
import torch

from nodeflow.comfy_compat import MissingComfySymbol, install

install()

import comfy.ldm.modules.attention as attention  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import comfy.ops as ops  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.common_dit import pad_to_patch_size, rms_norm  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.flux.math import apply_rope, rope  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.lightricks.model import apply_rotary_emb  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.modules.diffusionmodules.util import timestep_embedding  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.ldm.wan.model import sinusoidal_embedding_1d  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path

FUNCTIONS = [
    "attention_basic",
    "attention_split",
    "attention_sub_quad",
    "attention_pytorch",
    "optimized_attention",
    "optimized_attention_masked",
]


def softmax_attention(q, k, v, heads, additive=None):
    """[B, N, H*D] attention written out (additive mask broadcast to [B, H, Nq, Nk])."""
    b, n, inner = q.shape
    d = inner // heads

    def split(t):
        return t.reshape(b, -1, heads, d).transpose(1, 2)

    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(d)
    if additive is not None:
        scores = scores + additive
    return (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(b, n, inner)


@pytest.fixture
def qkv():
    g = torch.Generator().manual_seed(0)
    return [torch.randn(2, n, 16, generator=g) for n in (5, 7, 7)]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_attention_functions_equal_softmax_attention(name, qkv):
    fn = getattr(attention, name)
    q, k, v = qkv
    assert torch.allclose(fn(q, k, v, 4), softmax_attention(q, k, v, 4), atol=1e-5)
    float_mask = torch.randn(5, 7)  # [q, k], added to the scores
    assert torch.allclose(fn(q, k, v, 4, mask=float_mask), softmax_attention(q, k, v, 4, float_mask), atol=1e-5)
    keep = torch.rand(2, 5, 7, generator=torch.Generator().manual_seed(1)) > 0.4  # [B, q, k], True = attend
    keep[..., 0] = True
    additive = torch.zeros(2, 1, 5, 7).masked_fill(~keep[:, None], float("-inf"))
    assert torch.allclose(fn(q, k, v, 4, mask=keep), softmax_attention(q, k, v, 4, additive), atol=1e-5)
    per_head = torch.randn(8, 5, 7)  # [B*heads, q, k]
    assert torch.allclose(
        fn(q, k, v, 4, mask=per_head), softmax_attention(q, k, v, 4, per_head.reshape(2, 4, 5, 7)), atol=1e-5
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_attention_layouts(name, qkv):
    fn = getattr(attention, name)
    q, k, v = qkv

    def heads(t):
        return t.reshape(2, -1, 4, 4).transpose(1, 2)

    out = fn(heads(q), heads(k), heads(v), 4, skip_reshape=True, skip_output_reshape=True)
    assert out.shape == (2, 4, 5, 4)
    assert torch.allclose(out.transpose(1, 2).reshape(2, 5, 16), softmax_attention(q, k, v, 4), atol=1e-5)


def test_half_inputs_and_library_gated_functions(qkv):
    q, k, v = (t.half() for t in qkv)
    out = attention.attention_basic(q, k, v, 4, attn_precision=torch.float32)
    assert out.dtype == torch.float16
    assert torch.allclose(out.float(), softmax_attention(q.float(), k.float(), v.float(), 4), atol=2e-3)
    for name in ("attention_xformers", "attention_sage", "attention_flash"):
        with pytest.raises(RuntimeError, match="not installed"):
            getattr(attention, name)(*qkv, 4)


def test_wrap_attn_override_and_patched_optimized_attention(qkv, monkeypatch):
    calls = []

    def override(func, *args, **kwargs):
        calls.append(func.__name__)
        return func(*args, **kwargs) * 0 + 1

    q, k, v = qkv
    out = attention.optimized_attention(q, k, v, 4, transformer_options={"optimized_attention_override": override})
    assert calls == ["attention_pytorch"] and torch.equal(out, torch.ones_like(out))
    block = attention.CrossAttention(16, context_dim=8, heads=2, dim_head=8, operations=torch.nn)
    seen = []
    monkeypatch.setattr(
        attention,
        "optimized_attention",
        lambda q, k, v, heads, mask=None, **kw: seen.append(heads) or attention.attention_basic(q, k, v, heads),
    )
    block(torch.randn(1, 3, 16), context=torch.randn(1, 4, 8))
    assert seen == [2]  # blocks look the function up at call time, so packs can replace it


def test_cross_attention_and_feed_forward_compute_what_they_say():
    torch.manual_seed(0)
    block = attention.CrossAttention(16, context_dim=8, heads=2, dim_head=8, operations=torch.nn)
    x, ctx = torch.randn(1, 3, 16), torch.randn(1, 4, 8)
    expected = block.to_out[0](softmax_attention(block.to_q(x), block.to_k(ctx), block.to_v(ctx), 2))
    assert torch.allclose(block(x, context=ctx), expected, atol=1e-5)
    ff = attention.FeedForward(8, glu=True, operations=torch.nn)
    h, gate = ff.net[0].proj(ctx).chunk(2, dim=-1)
    assert torch.allclose(ff(ctx), ff.net[2](h * torch.nn.functional.gelu(gate)), atol=1e-6)
    assert attention.default(None, 3) == 3 and attention.default(0, 3) == 0


def test_ops_skip_init_cast_and_patch():
    layer = ops.manual_cast.Linear(4, 3, dtype=torch.float16)
    assert layer.comfy_cast_weights and not ops.disable_weight_init.Linear.comfy_cast_weights
    with torch.no_grad():
        layer.weight.copy_(torch.randn(3, 4))
        layer.bias.copy_(torch.randn(3))
    x = torch.randn(2, 4)
    expected = torch.nn.functional.linear(x, layer.weight.float(), layer.bias.float())
    assert layer(x).dtype == torch.float32 and torch.allclose(layer(x), expected)
    weight, bias = ops.cast_bias_weight(layer, x)
    assert weight.dtype == torch.float32 and bias.dtype == torch.float32
    assert len(ops.cast_bias_weight(layer, x, offloadable=True)) == 3
    plain = ops.disable_weight_init.Linear(4, 3)
    with torch.no_grad():  # skip-init layers hold whatever memory they got (NaN times 0 is NaN): set it
        plain.weight.copy_(torch.randn(3, 4))
        plain.bias.copy_(torch.randn(3))
    plain.weight_function = [lambda w: w * 0]  # a weight patch turns casting on for that layer only
    assert torch.equal(plain(x), plain.bias.expand(2, 3)) and ops.disable_weight_init.Linear(4, 3).weight_function == []
    assert ops.cast_to(x) is x and ops.cast_to(x, torch.float16).dtype == torch.float16
    conv = ops.manual_cast.conv_nd(2, 3, 5, 3, padding=1, dtype=torch.bfloat16)
    torch.nn.init.normal_(conv.weight)
    assert conv(torch.randn(1, 3, 8, 8)).shape == (1, 5, 8, 8)
    emb = ops.manual_cast.Embedding(10, 4, dtype=torch.float16)
    assert emb(torch.tensor([1, 2]), out_dtype=torch.float32).dtype == torch.float32
    for name in ("GroupNorm", "LayerNorm"):
        assert issubclass(getattr(ops.manual_cast, name), getattr(ops.disable_weight_init, name))
    norm = ops.disable_weight_init.GroupNorm(2, 4)
    torch.nn.init.ones_(norm.weight), torch.nn.init.zeros_(norm.bias)
    y = torch.randn(1, 4, 3, 3)
    assert torch.allclose(norm.forward_comfy_cast_weights(y), torch.nn.functional.group_norm(y, 2), atol=1e-6)
    assert ops.pick_operations(torch.float16, torch.float32) is ops.manual_cast


@pytest.mark.slow  # 4 s of CPU: two UNets on the same weights
def test_unet_model_equals_nodeflow_diffusers_unet_with_the_same_weights():
    from diffusers import UNet2DConditionModel

    from nodeflow.models.convert_unet import unet_from_diffusers
    from tests.sd.tiny import UNET_SD1

    torch.manual_seed(0)
    reference = UNet2DConditionModel(**UNET_SD1).eval()
    for p in reference.parameters():
        torch.nn.init.normal_(p, std=0.05)
    unet = UNetModel(
        None,
        4,
        32,
        4,
        1,
        channel_mult=(1, 2),
        num_heads=8,
        use_spatial_transformer=True,
        transformer_depth=[1, 0],
        transformer_depth_middle=1,
        context_dim=32,
        legacy=False,
    )
    unet.load_state_dict(unet_from_diffusers(reference.state_dict(), UNET_SD1), strict=True)
    x, t, ctx = torch.randn(2, 4, 16, 16), torch.tensor([10.0, 500.0]), torch.randn(2, 5, 32)
    with torch.no_grad():
        expected = reference(x, t, encoder_hidden_states=ctx).sample
        assert torch.allclose(unet(x, t, ctx), expected, atol=1e-5)
        # ControlNet residuals: "output" ones go onto the skip connections, "middle" after the middle block
        skips = [torch.randn(2, c, s, s) for c, s in ((32, 16), (32, 16), (32, 8), (64, 8))]
        middle = torch.randn(2, 64, 8, 8)
        controlled = reference(
            x, t, encoder_hidden_states=ctx, down_block_additional_residuals=skips, mid_block_additional_residual=middle
        ).sample
        got = unet(x, t, ctx, control={"output": list(skips), "middle": [middle]})
        assert torch.allclose(got, controlled, atol=1e-5)


def test_embeddings_and_rotary_helpers():
    t = torch.tensor([0.0, 3.0, 250.0])
    emb = timestep_embedding(t, 6)
    freqs = torch.tensor([10000 ** (-i / 3) for i in range(3)])
    assert torch.allclose(emb, torch.cat([torch.cos(t[:, None] * freqs), torch.sin(t[:, None] * freqs)], 1))
    assert timestep_embedding(t, 7)[:, -1].abs().sum() == 0 and timestep_embedding(t, 4, repeat_only=True).shape == (
        3,
        4,
    )
    wan = sinusoidal_embedding_1d(6, t)
    assert torch.allclose(wan, emb) and wan.dtype == torch.float32
    angles = torch.arange(5.0)[:, None] / 10000 ** (torch.arange(0, 8, 2) / 8)

    def rotate(x):
        return torch.view_as_real(
            torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
            * torch.polar(torch.ones_like(angles), angles)
        ).reshape(x.shape)

    q, k = torch.randn(1, 2, 5, 8), torch.randn(1, 2, 5, 8)
    rq, rk = apply_rope(q, k, rope(torch.arange(5.0)[None], 8, 10000.0)[:, None])
    assert torch.allclose(rq, rotate(q), atol=1e-5) and torch.allclose(rk, rotate(k), atol=1e-5)
    x = torch.randn(1, 5, 8)
    cos, sin = torch.cos(angles).repeat_interleave(2, -1), torch.sin(angles).repeat_interleave(2, -1)
    assert torch.allclose(apply_rotary_emb(x, (cos, sin)), rotate(x), atol=1e-5)
    padded = pad_to_patch_size(torch.ones(1, 3, 5, 7), (2, 2))
    assert padded.shape == (1, 3, 6, 8)
    y = torch.randn(2, 8)
    assert torch.allclose(rms_norm(y), y / y.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt(), atol=1e-6)


def test_absent_symbols_name_themselves():
    with pytest.raises(MissingComfySymbol, match=r"comfy\.ldm\.modules\.attention\.attention is ComfyUI API"):
        _ = attention.attention
    with pytest.raises(NotImplementedError, match="LTX-2"):
        __import__("comfy.ldm.lightricks.vae.audio_vae", fromlist=["AudioVAE"]).AudioVAE({}, {})

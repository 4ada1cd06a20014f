"""NodeFlow's own SD UNet (nodeflow/models/nets) against diffusers' UNet2DConditionModel.

Small random diffusers UNets in the SD1 / SD2 / SDXL / refiner / inpaint shapes NodeFlow detects
have their state dicts copied into SDUNet (``load_state_dict(strict=True)``); the two must have the
same state-dict names, order and shapes, the same config, and bit-identical outputs (``torch.equal``)
for odd latent sizes, batches, every kind of timestep, ControlNet and T2I-Adapter residuals, with
torch's layers and with NodeFlow's fast kernels. The full-size SD1.5 / SDXL configs detected from the
released key lists build on the meta device with diffusers' names and shapes."""

from __future__ import annotations

import functools
import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel

from nodeflow.models.detect import detect_checkpoint
from nodeflow.models.families_sd import unet_network
from nodeflow.models.kernels import use_kernels
from nodeflow.models.nets.sd_unet import SDUNet

DATA = Path(__file__).resolve().parents[1] / "data"
CROSS, PLAIN = "CrossAttnDownBlock2D", "DownBlock2D"
UP = {CROSS: "CrossAttnUpBlock2D", PLAIN: "UpBlock2D"}


def unet_config(down: tuple[str, ...], **extra) -> dict:
    """A config as detect.unet_config_from_shapes writes it (up types mirror the down types)."""
    return {
        "sample_size": 8,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": down,
        "up_block_types": tuple(UP[t] for t in reversed(down)),
        "mid_block_type": "UNetMidBlock2DCrossAttn",
        **extra,
    }


CONFIGS = {
    # SD1: conv projections, 8 heads, every level but the last with attention
    "sd1": unet_config(
        (CROSS, CROSS, PLAIN),
        block_out_channels=(32, 64, 64),
        layers_per_block=2,
        transformer_layers_per_block=1,
        cross_attention_dim=24,
        attention_head_dim=8,
        use_linear_projection=False,
        norm_num_groups=8,
    ),
    # SD2: linear projections, 64-channel heads (heads_of_64)
    "sd2": unet_config(
        (CROSS, CROSS, PLAIN),
        block_out_channels=(64, 128, 128),
        layers_per_block=1,
        transformer_layers_per_block=1,
        cross_attention_dim=48,
        attention_head_dim=(1, 2, 2),
        use_linear_projection=True,
        norm_num_groups=32,
    ),
    # SDXL: attention-free first level, deeper transformers further down, size/crop + pooled-text embedding
    "sdxl": unet_config(
        (PLAIN, CROSS, CROSS),
        block_out_channels=(32, 64, 128),
        layers_per_block=2,
        transformer_layers_per_block=(1, 2, 3),
        cross_attention_dim=40,
        attention_head_dim=(1, 1, 2),
        use_linear_projection=True,
        norm_num_groups=16,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=16 + 6 * 8,
    ),
    # SDXL refiner: attention-free first and last levels (the last one carries the mid depth), 5 ids
    "refiner": unet_config(
        (PLAIN, CROSS, CROSS, PLAIN),
        block_out_channels=(32, 64, 64, 64),
        layers_per_block=1,
        transformer_layers_per_block=(1, 2, 2, 2),
        cross_attention_dim=40,
        attention_head_dim=(1, 1, 1, 1),
        use_linear_projection=True,
        norm_num_groups=32,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=16 + 5 * 8,
        time_embedding_dim=96,
    ),
    # SD1 inpainting: 9 input channels (latent, mask, masked-image latent), 4 out
    "inpaint": unet_config(
        (CROSS, PLAIN),
        in_channels=9,
        block_out_channels=(32, 64),
        layers_per_block=1,
        transformer_layers_per_block=1,
        cross_attention_dim=24,
        attention_head_dim=8,
        use_linear_projection=False,
        norm_num_groups=32,
    ),
    # per-level res block counts, no middle block, a wider timestep embedding
    "uneven": unet_config(
        (CROSS, CROSS),
        mid_block_type=None,
        block_out_channels=(32, 64),
        layers_per_block=(1, 2),
        transformer_layers_per_block=(2, 1),
        cross_attention_dim=24,
        attention_head_dim=(2, 4),
        norm_num_groups=16,
        time_embedding_dim=160,
    ),
}
POOLED = 16


def randomize(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter random (diffusers zero-initialises nothing we could rely on, but norms start
    at 1/0: random scales and shifts test that each lands where it is used)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.15)
    return module


@functools.cache
def pair(name: str) -> tuple[UNet2DConditionModel, SDUNet]:
    cfg = CONFIGS[name]
    theirs = randomize(UNet2DConditionModel(**cfg), seed=len(name)).eval()
    mine = SDUNet(**cfg).eval()
    mine.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, mine


def inputs(name: str, batch: int, height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, dict]:
    cfg = CONFIGS[name]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, cfg["in_channels"], height, width, generator=g)
    context = torch.randn(batch, 7, cfg["cross_attention_dim"], generator=g)
    kwargs = {}
    if cfg.get("addition_embed_type") == "text_time":
        ids = (cfg["projection_class_embeddings_input_dim"] - POOLED) // cfg["addition_time_embed_dim"]
        kwargs["added_cond_kwargs"] = {
            "text_embeds": torch.randn(batch, POOLED, generator=g),
            "time_ids": torch.tensor([[1024.0, 768.0, 0.0, 16.0, 1024.0, 1024.0][:ids]] * batch),
        }
    return x, context, kwargs


def both(name: str, x, t, context, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    theirs, mine = pair(name)
    with torch.no_grad():
        a = theirs(x, t, encoder_hidden_states=context, return_dict=False, **copy_lists(kwargs))[0]
        b = mine(x, t, encoder_hidden_states=context, return_dict=False, **copy_lists(kwargs))[0]
    return a, b


def copy_lists(kwargs: dict) -> dict:
    """diffusers pops T2I features from the list it is given: each model gets its own list."""
    return {k: list(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """Feature-map size at each level (stride-2 convs with padding 1 round up)."""
    out = [(height, width)]
    for _ in range(levels - 1):
        h, w = out[-1]
        out.append((math.ceil(h / 2), math.ceil(w / 2)))
    return out


def controlnet_residuals(name: str, batch: int, height: int, width: int, seed: int = 1) -> dict:
    """Random residuals in the shapes of the UNet's skip features and mid output."""
    cfg = CONFIGS[name]
    widths, n = cfg["block_out_channels"], len(cfg["block_out_channels"])
    layers = cfg["layers_per_block"]
    at = sizes(height, width, n)
    shapes = [(widths[0], *at[0])]
    for i in range(n):
        shapes += [(widths[i], *at[i])] * layers
        if i < n - 1:
            shapes.append((widths[i], *at[i + 1]))
    g = torch.Generator().manual_seed(seed)
    down = tuple(torch.randn(batch, *s, generator=g) for s in shapes)
    return {
        "down_block_additional_residuals": down,
        "mid_block_additional_residual": torch.randn(batch, widths[-1], *at[-1], generator=g),
    }


def adapter_features(name: str, batch: int, height: int, width: int, extra: tuple | None = None, seed: int = 2):
    """T2I-Adapter features, one per level where diffusers adds them: after the last res/attention
    of an attention level, after the downsampler of a plain level; ``extra`` appends one more."""
    cfg = CONFIGS[name]
    widths, n = cfg["block_out_channels"], len(cfg["block_out_channels"])
    at = sizes(height, width, n)
    shapes = []
    for i, kind in enumerate(cfg["down_block_types"]):
        size = at[i] if kind == CROSS or i == n - 1 else at[i + 1]
        shapes.append((widths[i], *size))
    if extra is not None:
        shapes.append(extra)
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, *s, generator=g) for s in shapes]


# ----------------------------------------------------------------------------- structure


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_same_state_dict_and_config_as_diffusers(name):
    theirs, mine = pair(name)
    a, b = theirs.state_dict(), mine.state_dict()
    assert list(a) == list(b)  # same names in the same order
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
    assert dict(mine.config) == {k: v for k, v in dict(theirs.config).items() if not k.startswith("_")}
    assert mine.config.in_channels == theirs.config.in_channels
    names = [(n, type(m).__name__) for n, m in mine.named_modules() if n]  # the same tree of the same classes
    assert names == [(n, type(m).__name__) for n, m in theirs.named_modules() if n]
    cross = [n for n, m in mine.named_modules() if getattr(m, "is_cross_attention", False)]
    assert cross and all(n.endswith("attn2") for n in cross)
    assert all(type(mine.get_submodule(f"{n}.{p}")) is torch.nn.Linear for n in cross for p in ("to_k", "to_v"))


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_full_size_configs_build_on_meta_with_diffusers_names(family):
    path = DATA / f"{family}_checkpoint_keys.json.gz"
    keys = json.loads(gzip.decompress(path.read_bytes()))["keys"]
    info = detect_checkpoint({k: shape for k, (shape, _) in keys.items()})
    assert SDUNet.supports(info.unet_config) is None
    with torch.device("meta"):
        theirs = UNet2DConditionModel(**info.unet_config)
        mine = unet_network(info.unet_config)
    assert type(mine) is SDUNet
    a, b = theirs.state_dict(), mine.state_dict()
    assert list(a) == list(b)
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
    assert len(b) > 600


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("batch,height,width", [(1, 8, 8), (2, 9, 7), (2, 5, 3)])
def test_outputs_equal_diffusers(name, batch, height, width):
    x, context, kwargs = inputs(name, batch, height, width)
    t = torch.tensor([999.0, 1.5])[:batch]
    a, b = both(name, x, t, context, **kwargs)
    assert a.shape == (batch, 4, height, width)
    assert torch.equal(a, b)


@pytest.mark.parametrize("timestep", [torch.tensor(500.0), torch.tensor([37.25]), 10, 3.5, torch.tensor([7, 900])])
def test_every_timestep_form_equal(timestep):
    x, context, kwargs = inputs("sdxl", 2, 8, 8)
    a, b = both("sdxl", x, timestep, context, **kwargs)
    assert torch.equal(a, b)


def test_return_dict_gives_sample():
    theirs, mine = pair("sd1")
    x, context, _ = inputs("sd1", 1, 8, 8)
    with torch.no_grad():
        out = mine(x, torch.tensor([10.0]), encoder_hidden_states=context)
        assert torch.equal(out.sample, out[0])
        assert torch.equal(out.sample, theirs(x, torch.tensor([10.0]), encoder_hidden_states=context).sample)


@pytest.mark.parametrize("name", ["sd1", "sdxl", "refiner"])
@pytest.mark.parametrize("height,width", [(8, 8), (9, 7)])
def test_controlnet_residuals_equal(name, height, width):
    x, context, kwargs = inputs(name, 2, height, width)
    residuals = controlnet_residuals(name, 2, height, width)
    plain, _ = both(name, x, torch.tensor([400.0]), context, **kwargs)
    a, b = both(name, x, torch.tensor([400.0]), context, **kwargs, **residuals)
    assert not torch.equal(a, plain)  # the residuals do reach the output
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["sd1", "sdxl", "refiner"])
@pytest.mark.parametrize("height,width", [(8, 8), (9, 7)])
def test_t2i_intrablock_residuals_equal(name, height, width):
    x, context, kwargs = inputs(name, 2, height, width)
    features = adapter_features(name, 2, height, width)
    plain, _ = both(name, x, torch.tensor([400.0]), context, **kwargs)
    a, b = both(name, x, torch.tensor([400.0]), context, **kwargs, down_intrablock_additional_residuals=features)
    assert not torch.equal(a, plain)
    assert torch.equal(a, b)


@pytest.mark.parametrize("fits", [True, False])
def test_t2i_extra_feature_added_to_mid_only_when_its_shape_fits(fits):
    cfg = CONFIGS["sdxl"]
    at = sizes(8, 8, 3)[-1]
    extra = (cfg["block_out_channels"][-1], *at) if fits else (cfg["block_out_channels"][-1], at[0] + 1, at[1])
    x, context, kwargs = inputs("sdxl", 1, 8, 8)
    base = adapter_features("sdxl", 1, 8, 8)
    with_extra = adapter_features("sdxl", 1, 8, 8, extra=extra)
    without, _ = both("sdxl", x, torch.tensor([400.0]), context, **kwargs, down_intrablock_additional_residuals=base)
    a, b = both("sdxl", x, torch.tensor([400.0]), context, **kwargs, down_intrablock_additional_residuals=with_extra)
    assert torch.equal(a, b)
    assert torch.equal(a, without) is not fits


@pytest.mark.filterwarnings("ignore::FutureWarning")  # diffusers deprecates this convention
def test_t2i_features_passed_as_down_residuals_alone_equal():
    """diffusers' older calling convention: adapter features as down residuals without a mid one."""
    x, context, _ = inputs("sd1", 2, 9, 7)
    features = adapter_features("sd1", 2, 9, 7)
    a, b = both("sd1", x, torch.tensor([50.0]), context, down_block_additional_residuals=features)
    intrablock, _ = both("sd1", x, torch.tensor([50.0]), context, down_intrablock_additional_residuals=features)
    assert torch.equal(a, b)
    assert torch.equal(a, intrablock)


def test_controlnet_and_t2i_together_equal():
    x, context, kwargs = inputs("sdxl", 2, 9, 7)
    extra = {
        **controlnet_residuals("sdxl", 2, 9, 7),
        "down_intrablock_additional_residuals": adapter_features("sdxl", 2, 9, 7),
    }
    a, b = both("sdxl", x, torch.tensor([1.0, 600.0]), context, **kwargs, **extra)
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["sd1", "sd2", "sdxl"])
def test_equal_with_nodeflows_fast_kernels(name):
    cfg = CONFIGS[name]
    theirs = randomize(UNet2DConditionModel(**cfg), seed=7).eval()
    mine = SDUNet(**cfg).eval()
    mine.load_state_dict(theirs.state_dict(), strict=True)
    assert use_kernels(theirs) == use_kernels(mine) > 0
    x, context, kwargs = inputs(name, 2, 9, 7)
    residuals = controlnet_residuals(name, 2, 9, 7)
    with torch.no_grad():
        a = theirs(x, torch.tensor([321.0]), encoder_hidden_states=context, return_dict=False, **kwargs, **residuals)
        b = mine(x, torch.tensor([321.0]), encoder_hidden_states=context, return_dict=False, **kwargs, **residuals)
    assert torch.equal(a[0], b[0])


def test_bfloat16_equal():
    theirs, mine = pair("sd2")
    theirs16, mine16 = (
        UNet2DConditionModel(**CONFIGS["sd2"]).to(torch.bfloat16).eval(),
        SDUNet(**CONFIGS["sd2"]).to(torch.bfloat16).eval(),
    )
    theirs16.load_state_dict(theirs.state_dict())
    mine16.load_state_dict(mine.state_dict())
    x, context, _ = inputs("sd2", 2, 9, 7)
    with torch.no_grad():
        a = theirs16(x.bfloat16(), torch.tensor([99.0]), encoder_hidden_states=context.bfloat16()).sample
        b = mine16(x.bfloat16(), torch.tensor([99.0]), encoder_hidden_states=context.bfloat16()).sample
    assert a.dtype == b.dtype == torch.bfloat16
    assert torch.equal(a, b)


def test_sdxl_without_size_conditioning_is_refused_clearly():
    _, mine = pair("sdxl")
    x, context, _ = inputs("sdxl", 1, 8, 8)
    with pytest.raises(ValueError, match="text_embeds"):
        mine(x, torch.tensor([1.0]), encoder_hidden_states=context)


# ----------------------------------------------------------------------------- what it refuses


@pytest.mark.parametrize(
    "change,key",
    [
        ({"upcast_attention": True}, "upcast_attention"),
        ({"class_embed_type": "timestep"}, "class_embed_type"),
        ({"down_block_types": ("SimpleCrossAttnDownBlock2D", "DownBlock2D")}, "down_block_types"),
        ({"attention_head_dim": 5}, "attention_head_dim"),
        ({"cross_attention_dim": (24, 24)}, "cross_attention_dim"),
        ({"addition_embed_type": "text"}, "addition_embed_type"),
        ({"transformer_layers_per_block": ((1, 1), (1, 1))}, "transformer_layers_per_block"),
        ({"norm_num_groups": None}, "norm_num_groups"),
        ({"some_new_option": 1}, "some_new_option"),
    ],
)
def test_unsupported_config_is_refused_with_its_reason(change, key):
    cfg = {**CONFIGS["inpaint"], **change}
    reason = SDUNet.supports(cfg)
    assert reason is not None and key in reason
    with pytest.raises(ValueError, match=key):
        SDUNet(**cfg)


def test_family_builds_own_unet_and_falls_back_to_diffusers():
    assert type(unet_network(CONFIGS["sdxl"])) is SDUNet
    fallback = unet_network({**CONFIGS["sd1"], "upcast_attention": True})
    assert type(fallback) is UNet2DConditionModel


def test_own_unet_imports_neither_diffusers_nor_transformers():
    code = (
        "import sys; import nodeflow.models.nets.sd_unet, nodeflow.models.families_sd; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('diffusers', 'transformers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_equal_with_fp8_storage():
    """fp8 files: weights stored in fp8 and computed layer by layer in fp32 (fp8_storage)."""
    from nodeflow.models.fp8_storage import store_fp8

    theirs, mine = (
        randomize(UNet2DConditionModel(**CONFIGS["sdxl"]), seed=3).eval(),
        SDUNet(**CONFIGS["sdxl"]).eval(),
    )
    mine.load_state_dict(theirs.state_dict(), strict=True)
    theirs, mine = (store_fp8(m, torch.float8_e4m3fn, torch.float32) for m in (theirs, mine))
    assert {k: v.dtype for k, v in theirs.state_dict().items()} == {k: v.dtype for k, v in mine.state_dict().items()}
    x, context, kwargs = inputs("sdxl", 2, 9, 7)
    with torch.no_grad():
        a = theirs(x, torch.tensor([5.0]), encoder_hidden_states=context, **kwargs).sample
        b = mine(x, torch.tensor([5.0]), encoder_hidden_states=context, **kwargs).sample
    assert torch.equal(a, b)

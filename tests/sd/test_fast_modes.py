"""Opt-in fast modes on the tiny SD1 checkpoint: each loads with the UNet weights in the dtype or
layout asked for, computes finite outputs close to fp32, and ``ModelManager.prepare`` is idempotent;
LoRAs and saving are refused with a clear error on an int8 model."""

import pytest
import torch

from nodeflow.models.loader import load_checkpoint
from nodeflow.models.lora import apply_lora, load_lora
from nodeflow.models.manager import ModelManager
from nodeflow.models.saver import checkpoint_state
from tests.helpers.lora_files import kohya_lora


def load(path, **kwargs):
    manager = ModelManager(cpu=True, **kwargs)
    model, clip, _ = load_checkpoint(path, manager, output_vae=False)
    manager.prepare(model.unet.module, "unet")  # what loader.build_module does once it calls prepare
    return model, clip


def forward(model) -> torch.Tensor:
    """The raw network output for a fixed seeded input (what one sampling step calls)."""
    g = torch.Generator().manual_seed(0)
    width = model.unet.module.config.cross_attention_dim
    x, context = torch.randn(2, 4, 8, 8, generator=g), torch.randn(2, 77, width, generator=g)
    with torch.no_grad():
        return model.apply(x, torch.tensor([999.0, 500.0]), context)


@pytest.fixture(scope="module")
def exact(tiny_ckpt_file):
    return forward(load(tiny_ckpt_file)[0])


# mode -> ModelManager kwargs, the UNet's weight dtype, the largest difference to fp32 accepted
MODES = {
    "bf16_unet": ({"dtypes": {"unet": torch.bfloat16}}, torch.bfloat16, 5e-2),
    "fp16_unet": ({"dtypes": {"unet": torch.float16}}, torch.float16, 5e-3),
    "int8_linear": ({"int8_linear": True}, torch.float32, 1e-1),
    "channels_last": ({"channels_last": True}, torch.float32, 1e-5),
    "channels_last_plain_kernels": ({"channels_last": True, "plain_kernels": True}, torch.float32, 1e-5),
}
# at 8x8 latents every convolution takes the small-map GEMM path (small_conv.py), the same sums in
# either memory format, so channels_last alone may equal fp32 bit for bit
EXACT_POSSIBLE = {"channels_last"}


@pytest.mark.parametrize("mode", list(MODES))
def test_each_mode_is_finite_in_its_dtype_and_close_to_fp32(mode, tiny_ckpt_file, exact):
    kwargs, weight_dtype, tolerance = MODES[mode]
    model, _ = load(tiny_ckpt_file, **kwargs)
    unet = model.unet.module
    assert model.dtype == weight_dtype and unet.conv_in.weight.dtype == weight_dtype
    out = forward(model)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    difference = float((out - exact).abs().max())
    assert difference <= tolerance * float(exact.abs().max()), difference
    assert difference > 0 or mode in EXACT_POSSIBLE  # a real mode differs a little


def test_channels_last_puts_every_convolution_in_channels_last(tiny_ckpt_file):
    model, _ = load(tiny_ckpt_file, channels_last=True)
    convs = [m for m in model.unet.module.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert not load(tiny_ckpt_file)[0].unet.module.conv_in.weight.is_contiguous(memory_format=torch.channels_last)


def test_int8_linear_quantizes_the_unet_linear_layers_only(tiny_ckpt_file):
    model, clip = load(tiny_ckpt_file, int8_linear=True)
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    unet_layers = list(model.unet.module.modules())
    assert any(isinstance(m, DynamicLinear) for m in unet_layers)
    assert not any(type(m) is torch.nn.Linear for m in unet_layers)
    assert any(type(m) is torch.nn.Linear for m in clip.encoders[0].model.module.modules())  # text encoders stay


def test_prepare_runs_once_and_only_for_the_unet(tiny_ckpt_file):
    manager = ModelManager(cpu=True, int8_linear=True, channels_last=True)
    model, _ = load(tiny_ckpt_file, int8_linear=True, channels_last=True)
    unet = model.unet.module
    layers = [id(m) for m in unet.modules()]
    assert manager.prepare(unet, "unet") is unet and [id(m) for m in unet.modules()] == layers  # no-op again
    vae_like = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3), torch.nn.Linear(4, 4))
    assert manager.prepare(vae_like, "vae") is vae_like and type(vae_like[1]) is torch.nn.Linear
    assert not vae_like[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_lora_on_an_int8_model_is_a_clear_error(tiny_ckpt_file, tmp_path):
    model, clip = load(tiny_ckpt_file, int8_linear=True)
    kohya_lora(tmp_path / "l.safetensors")
    with pytest.raises(ValueError, match=r"\(--int8-linear\), so LoRAs.*restart NodeFlow without --int8-linear"):
        apply_lora(model, clip, load_lora(tmp_path / "l.safetensors"), 1.0, 1.0, "l")
    _, patched_clip, _ = apply_lora(None, clip, load_lora(tmp_path / "l.safetensors"), 0.0, 1.0, "l")
    assert patched_clip is not None  # the float text encoders still take the LoRA
    with pytest.raises(ValueError, match=r"\(--int8-linear\), so it cannot be saved as a checkpoint"):
        checkpoint_state(model, clip, None)


def test_int8_linear_needs_the_cpu():
    with pytest.raises(ValueError, match=r"CPU only.*add --cpu"):
        ModelManager(device="meta", int8_linear=True)  # any device but the CPU


def test_checkpoint_text_encoders_follow_the_text_dtype(tiny_ckpt_file):
    """--bf16-unet leaves a checkpoint's text encoders in fp32 (their own kind), --bf16-text-enc does not."""

    def text_dtypes(**dtypes):
        manager = ModelManager(cpu=True, dtypes=dtypes)
        model, clip, _ = load_checkpoint(tiny_ckpt_file, manager)
        unet = next(model.unet.module.parameters()).dtype
        return unet, {p.dtype for e in clip.encoders for p in e.model.module.parameters()}

    assert text_dtypes(unet=torch.bfloat16) == (torch.bfloat16, {torch.float32})
    assert text_dtypes(text=torch.bfloat16) == (torch.float32, {torch.bfloat16})

"""16-bit weights kept as the file stores them on a CPU computing in fp32 (nodeflow/models/half_storage.py,
native/half_gemm.cpp): the kernel equals fp32 F.linear, a fp16 checkpoint loads with 16-bit conv/linear
weights and fp32 everything else, and gives the fp32 model's latents, LoRAs and saving work as on fp32
weights, ControlNets follow, and the plain path stays when the kernel is off."""

import itertools
import shutil

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from nodeflow.models import half_storage
from nodeflow.models.component_files import load_unet_file
from nodeflow.models.control_files import load_control_file
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.lora import apply_lora, load_lora
from nodeflow.models.manager import ModelManager
from nodeflow.models.native import half_gemm
from nodeflow.models.saver import checkpoint_state
from nodeflow.sampling.run import SampleRequest, ksampler_sigmas, sample_with_sigmas
from tests.helpers.lora_files import kohya_lora

from .tiny import write_tiny_sd1
from .tiny_control import write_controlnet_ldm

HAS_COMPILER = shutil.which("g++") or shutil.which("c++")


def test_the_kernel_is_built_here():
    # CI installs g++ (tools/test.sh) on an AVX2 machine: the fast path must not silently fall back
    assert not HAS_COMPILER or half_gemm.kernel() is not None, half_gemm.reason()


needs_kernel = pytest.mark.skipif(half_gemm.kernel() is None, reason="16-bit kernel unavailable (no compiler/AVX2)")


@needs_kernel
@pytest.mark.parametrize(
    ("dtype", "m", "n", "k", "bias"),
    [
        (d, m, n, k, b)
        for d, (m, n, k), b in itertools.product(
            (torch.float16, torch.bfloat16),
            ((1, 1, 1), (1, 7, 13), (3, 64, 512), (4, 5, 520), (5, 37, 1031), (17, 30, 1280), (48, 100, 96)),
            (True, False),
        )
    ],
)
def test_the_kernel_equals_fp32_linear(dtype, m, n, k, bias):
    g = torch.Generator().manual_seed(m * 1000 + n + k)
    x = torch.randn(2, m, k, generator=g)
    w = torch.randn(n, k, generator=g).to(dtype)
    b = torch.randn(n, generator=g) if bias else None
    got = half_gemm.half_linear(x, w, b)
    want = F.linear(x, w.float(), b)
    assert got.shape == want.shape == (2, m, n)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5 * k**0.5)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("half")
    fp32 = write_tiny_sd1(d / "tiny32.safetensors", seed=3)
    fp16 = d / "tiny16.safetensors"
    save_file({k: v.half() for k, v in load_file(fp32).items()}, str(fp16))
    cn16 = d / "cn16.safetensors"
    save_file({k: v.half() for k, v in load_file(write_controlnet_ldm(d / "cn32.safetensors")).items()}, str(cn16))
    return {"fp32": fp32, "fp16": fp16, "cn16": cn16}


def close(got, want, scale=1e-5):
    """Equal up to float summation order: the largest difference is tiny next to the largest value."""
    return (got - want).abs().max().item() <= scale * want.abs().max().item()


def dtypes(module):
    out = {}
    for name, p in module.named_parameters():
        out.setdefault(p.dtype, []).append(name)
    return out


def sample(model, clip, batch=1, size=8, control=None):
    cond = clip.encode("a red star")[0]
    extra = {"control": control} if control is not None else {}
    positive, negative = [[cond, dict(extra)]], [[clip.encode("blurry")[0], dict(extra)]]
    latent = {"samples": torch.zeros(batch, 4, size, size)}
    sigmas = ksampler_sigmas(model, "normal", 3)
    return sample_with_sigmas(SampleRequest(model, positive, negative, latent, seed=3, cfg=5.0), sigmas)["samples"]


@pytest.fixture(scope="module")
def loaded(files):
    half = load_checkpoint(files["fp16"], ModelManager(cpu=True))
    plain = load_checkpoint(files["fp16"], ModelManager(cpu=True, plain_kernels=True))
    return half, plain


@needs_kernel
def test_conv_and_linear_weights_stay_16_bit_and_the_rest_is_fp32(loaded):
    (model, clip, _vae), (plain, _, _) = loaded
    kinds = dtypes(model.unet.module)
    assert set(kinds) == {torch.float16, torch.float32}
    assert all(name.endswith(".weight") for name in kinds[torch.float16])
    modules = dict(model.unet.module.named_modules())
    for name in kinds[torch.float16]:
        assert isinstance(modules[name.rsplit(".", 1)[0]], (torch.nn.Linear, torch.nn.Conv2d))
    for name in kinds[torch.float32]:  # biases, norms: fp32
        layer = modules[name.rsplit(".", 1)[0]]
        assert name.endswith(".bias") or not isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)), name
    assert model.dtype == torch.float32
    assert set(dtypes(plain.unet.module)) == {torch.float32}  # --plain-kernels: as before
    text = clip.encoders[0].model.module  # the CLIP text tower too: its linear layers, not its embeddings
    assert set(dtypes(text)) == {torch.float16, torch.float32}
    assert all(
        name.startswith("embeddings.")
        or name.endswith(("bias", "layer_norm1.weight", "layer_norm2.weight", "final_layer_norm.weight"))
        for name in dtypes(text)[torch.float32]
    )
    half_bytes = sum(p.numel() * p.element_size() for p in model.unet.module.parameters())
    full_bytes = sum(p.numel() * p.element_size() for p in plain.unet.module.parameters())
    assert half_bytes < 0.56 * full_bytes


@needs_kernel
@pytest.mark.parametrize("size", [8, 16])  # 16: maps over 64 pixels go through the widened fp32 weights
def test_the_latents_are_the_fp32_models(loaded, size):
    (model, clip, _), (plain, plain_clip, _) = loaded
    got, want = sample(model, clip, batch=2, size=size), sample(plain, plain_clip, batch=2, size=size)
    assert close(got, want), (got - want).abs().max()


@needs_kernel
def test_a_lora_patches_in_fp32_and_unpatching_restores_the_16_bit_weights(loaded, tmp_path):
    (model, clip, _), (plain, plain_clip, _) = loaded
    kohya_lora(tmp_path / "l.safetensors")
    target = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"
    before = model.unet.module.get_parameter(target).detach().clone()
    assert before.dtype == torch.float16
    lora = load_lora(tmp_path / "l.safetensors")
    patched, patched_clip, _ = apply_lora(model, clip, lora, 0.7, 0.3, "l")
    plain_patched, plain_patched_clip, _ = apply_lora(plain, plain_clip, lora, 0.7, 0.3, "l")
    got = sample(patched, patched_clip)
    weight = patched.unet.module.get_parameter(target)
    assert weight.dtype == torch.float32  # the patched sum is not rounded to fp16
    plain_patched.unet.activate()
    assert torch.equal(weight, plain_patched.unet.module.get_parameter(target))
    assert close(got, sample(plain_patched, plain_patched_clip))
    assert not close(got, sample(model, clip), 1e-3)  # the LoRA did something
    model.unet.activate()  # the clone without the LoRA: the original 16-bit weight, bit for bit
    restored = model.unet.module.get_parameter(target)
    assert restored.dtype == torch.float16 and torch.equal(restored, before)


@needs_kernel
def test_saving_writes_the_fp32_models_tensors(loaded):
    (model, clip, vae), (plain, plain_clip, plain_vae) = loaded
    saved, want = checkpoint_state(model, clip, vae), checkpoint_state(plain, plain_clip, plain_vae)
    assert saved.keys() == want.keys()
    assert all(saved[k].dtype == want[k].dtype and torch.equal(saved[k], want[k]) for k in want)


@needs_kernel
def test_an_fp32_file_keeps_fp32_weights(files):
    model, _, _ = load_checkpoint(files["fp32"], ModelManager(cpu=True))
    assert set(dtypes(model.unet.module)) == {torch.float32}


@needs_kernel
def test_the_unet_loader_and_controlnets_keep_16_bit_weights(files, loaded, tmp_path):
    unet_only = tmp_path / "unet16.safetensors"
    save_file(
        {k: v for k, v in load_file(files["fp16"]).items() if k.startswith("model.diffusion_model.")}, str(unet_only)
    )
    alone = load_unet_file(unet_only, ModelManager(cpu=True))
    assert torch.float16 in dtypes(alone.unet.module)
    (model, clip, _), (plain, plain_clip, _) = loaded
    control = load_control_file(files["cn16"], ModelManager(cpu=True))
    plain_control = load_control_file(files["cn16"], ModelManager(cpu=True, plain_kernels=True))
    assert torch.float16 in dtypes(control.network) and set(dtypes(plain_control.network)) == {torch.float32}
    hint = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    got = sample(model, clip, control=control.copy().set_cond_hint(hint, 0.8))
    want = sample(plain, plain_clip, control=plain_control.copy().set_cond_hint(hint, 0.8))
    assert close(got, want)


def test_without_the_kernel_models_load_in_fp32(files, monkeypatch):
    monkeypatch.setitem(half_gemm._state, "library", None)
    monkeypatch.setitem(half_gemm._state, "reason", "test: turned off")
    assert not half_storage.wanted(ModelManager(cpu=True))
    model, _, _ = load_checkpoint(files["fp16"], ModelManager(cpu=True))
    assert set(dtypes(model.unet.module)) == {torch.float32}


def test_other_managers_do_not_keep_16_bit_weights():
    assert not half_storage.wanted(None)
    assert not half_storage.wanted(ModelManager(cpu=True, plain_kernels=True))
    assert not half_storage.wanted(ModelManager(cpu=True, channels_last=True))
    assert not half_storage.wanted(ModelManager(cpu=True, int8_linear=True))


@needs_kernel
def test_torch_kernels_widen_the_weights_and_nodeflows_narrow_them_again(files):
    from nodeflow.models.kernels import use_kernels

    model, clip, _ = load_checkpoint(files["fp16"], ModelManager(cpu=True))
    unet = model.unet.module
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    default = sample(model, clip)
    use_kernels(unet, plain=True)  # torch's modules need fp32 weights
    assert set(dtypes(unet)) == {torch.float32}
    assert close(sample(model, clip), default)
    use_kernels(unet)
    after = unet.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())


@needs_kernel
def test_the_kernel_bench_prints_ratios_per_shape():
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "bench/half_kernels.py", "--rows", "2", "96", "--million-weights", "0.1"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["native_rows"] == half_storage.NATIVE_ROWS
    assert {(r["out"], r["in"], r["rows"]) for r in report["layers"]} >= {(1280, 1280, 2), (320, 2880, 96)}
    assert all(r["fp32_ms"] > 0 and r["native_over_fp32"] > 0 and r["widened_over_fp32"] > 0 for r in report["layers"])


@needs_kernel
def test_cross_attention_keys_and_values_are_still_computed_once_per_run(loaded):
    from nodeflow.models.context_cache import ContextProjection

    (model, _, _), _ = loaded
    projections = [m for name, m in model.unet.module.named_modules() if name.endswith(("attn2.to_k", "attn2.to_v"))]
    assert projections and all(isinstance(m, ContextProjection) for m in projections)
    assert all(m.weight.dtype == torch.float16 for m in projections)


@pytest.mark.slow  # inductor compiles the tiny UNet: 1-4 min of CPU on 2 cores
@pytest.mark.timeout(900)
@needs_kernel
def test_torch_compile_model_traces_the_widening(files, sd_env, monkeypatch, tmp_path):
    import os

    from nodeflow.models import compiled

    from .test_fast_modes import forward
    from .test_torch_compile import compile_node

    monkeypatch.setenv(compiled.CACHE_ENV, os.environ.get(compiled.CACHE_ENV, ""))  # restored after the test
    monkeypatch.delenv(compiled.CACHE_ENV)
    monkeypatch.setattr(compiled, "USER_CACHE_DIR", str(tmp_path / "inductor"))
    manager = ModelManager(cpu=True)
    model, _, _ = load_checkpoint(files["fp16"], manager, output_vae=False, output_clip=False)
    plain, _, _ = load_checkpoint(
        files["fp16"], ModelManager(cpu=True, plain_kernels=True), output_vae=False, output_clip=False
    )
    assert torch.float16 in dtypes(model.unet.module)
    fast = compile_node(sd_env, manager).run(model, "inductor")
    assert close(forward(fast), forward(plain), 1e-5)

"""NodeFlow's CPU kernels (nodeflow/models/kernels.py): small feature maps convolve as one GEMM
(small_conv.py), linear layers go through oneDNN (fast_linear.py). Same results as torch's modules
within float rounding, same parameters and state dict, centre taps that follow a LoRA patched in
place, and ``--plain-kernels`` reaching the loaded models."""

import itertools
import threading

import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.context_cache import ContextProjection
from nodeflow.models.fast_linear import OneDNNLinear, linear
from nodeflow.models.kernels import prepare_network, use_kernels
from nodeflow.models.manager import ModelManager
from nodeflow.models.small_conv import MAX_PIXELS, SmallInputConv2d
from nodeflow.server.cli_args import parser
from tests.helpers.engine_results import latent_of
from tests.helpers.sd_prompts import txt2img

GEOMETRIES = [  # (kernel, stride, padding, dilation): the UNet's convs, and the odd ones packs may use
    (3, 1, 1, 1),
    (3, 2, 1, 1),
    (1, 1, 0, 1),
    (1, 2, 0, 1),
    (3, 1, 0, 1),
    (3, 1, 2, 2),
    (2, 2, 0, 1),
    ((3, 1), 1, (1, 0), 1),
]


@pytest.mark.parametrize(("geometry", "size"), itertools.product(GEOMETRIES, [1, 2, 3, 5, 8, 9]))
def test_same_result_as_torch_convolution(geometry, size):
    kernel, stride, padding, dilation = geometry
    torch.manual_seed(size)
    conv = torch.nn.Conv2d(16, 24, kernel, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(3, 16, size, size)
    try:
        expected = conv(x)
    except RuntimeError:  # the kernel is larger than the padded input: torch refuses, so must we
        use_kernels(torch.nn.Sequential(conv))
        with pytest.raises(RuntimeError):
            conv(x)
        return
    assert use_kernels(torch.nn.Sequential(conv)) == 1
    assert type(conv) is SmallInputConv2d
    got = conv(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_large_maps_and_grouped_convs_use_torch_kernels(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.nn.functional, "unfold", lambda *a, **k: calls.append(a) or None)
    big = torch.nn.Conv2d(4, 4, 3, padding=1)
    grouped = torch.nn.Conv2d(4, 4, 3, padding=1, groups=2)
    use_kernels(torch.nn.Sequential(big, grouped))
    side = int(MAX_PIXELS**0.5) + 1  # one more output pixel than the GEMM form takes
    big(torch.randn(1, 4, side, side))
    grouped(torch.randn(1, 4, 2, 2))
    assert calls == []


def test_centre_taps_follow_a_weight_patched_in_place():
    conv = torch.nn.Conv2d(8, 8, 3, padding=1)
    use_kernels(torch.nn.Sequential(conv))
    x = torch.randn(2, 8, 1, 1)
    before = conv(x)
    with torch.no_grad():
        conv.weight.add_(0.5)  # what PatchedModule.activate does to a LoRA'd weight
    after = conv(x)
    plain = torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
    torch.testing.assert_close(after, plain, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(before, after)


def test_state_dict_and_round_trip_unchanged():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.SiLU(), torch.nn.Conv2d(4, 2, 1))
    keys = {k: v.clone() for k, v in net.state_dict().items()}
    assert use_kernels(net) == 2
    net(torch.randn(1, 3, 1, 1))  # builds a centre-tap copy, which must not join the state dict
    assert net.state_dict().keys() == keys.keys()
    assert use_kernels(net, plain=True) == 2
    assert all(type(m) is torch.nn.Conv2d for m in net if isinstance(m, torch.nn.Conv2d))
    assert prepare_network(net, ModelManager(cpu=True, plain_kernels=True)) is net
    assert all(type(m) is torch.nn.Conv2d for m in net if isinstance(m, torch.nn.Conv2d))


def _latent(env, manager: ModelManager, registry) -> torch.Tensor:
    engine = Engine(registry, env, models=manager)
    result = engine.execute(Job("p", txt2img(steps=3, cfg=5.0), ["6"]), lambda *a: None, threading.Event())
    return latent_of(env, result)


def test_txt2img_matches_plain_kernels(sd_env, registry):
    """The default (GEMM on small maps) and --plain-kernels give the same picture within float
    rounding, and the flag really selects torch's kernels on the loaded UNet."""
    fast_manager = ModelManager(cpu=True)
    fast = _latent(sd_env, fast_manager, registry)
    plain_manager = ModelManager(cpu=True, plain_kernels=True)
    plain = _latent(sd_env, plain_manager, registry)
    # float rounding only: the tiny random model's latents reach ~265, the difference stays ~1e-6 of that
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5 * float(plain.abs().max()))
    (fast_model, _, _), (plain_model, _, _) = (m.load(m.cached_keys()[0], None) for m in (fast_manager, plain_manager))
    kinds = {type(m) for m in fast_model.unet.module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}
    assert kinds == {SmallInputConv2d, OneDNNLinear, ContextProjection}
    kinds = {type(m) for m in plain_model.unet.module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}
    assert kinds == {torch.nn.Conv2d, torch.nn.Linear, ContextProjection}
    projections = [m for m in plain_model.unet.module.modules() if isinstance(m, ContextProjection)]
    assert projections and all(m.plain for m in projections)


@pytest.mark.parametrize("shape", [(5, 12), (2, 7, 12), (2, 3, 4, 12), (12,), (0, 12)])
@pytest.mark.parametrize("bias", [True, False])
def test_onednn_linear_equals_torch(shape, bias):
    torch.manual_seed(0)
    layer = torch.nn.Linear(12, 20, bias=bias)
    x = torch.randn(*shape)
    expected = layer(x)
    use_kernels(torch.nn.Sequential(layer))
    assert type(layer) is OneDNNLinear
    with torch.no_grad():
        torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    non_contiguous = torch.randn(12, 5).t()
    torch.testing.assert_close(
        linear(non_contiguous, layer.weight, layer.bias),
        torch.nn.functional.linear(non_contiguous, layer.weight, layer.bias),
        rtol=1e-5,
        atol=1e-5,
    )


def test_onednn_linear_leaves_other_dtypes_and_autograd_to_torch():
    layer = torch.nn.Linear(4, 3)
    use_kernels(torch.nn.Sequential(layer))
    x = torch.randn(2, 4)
    layer(x).sum().backward()  # autograd: F.linear, so gradients flow
    assert layer.weight.grad is not None
    half = layer.to(torch.bfloat16)
    assert half(x.bfloat16()).dtype == torch.bfloat16


def test_flag_parses():
    assert parser().parse_args(["--plain-kernels"]).plain_kernels is True
    assert parser().parse_args([]).plain_kernels is False

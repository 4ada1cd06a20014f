"""Cross-attention keys/values computed once per run (nodeflow/models/context_cache.py): reused only
for an equal context and unchanged weights, and sampling gives the same latents bit for bit."""

import threading

import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models import context_cache
from nodeflow.models.context_cache import ContextProjection, cache_context_projections, forget_contexts
from nodeflow.models.fast_linear import OneDNNLinear
from nodeflow.models.manager import ModelManager
from tests.helpers.engine_results import latent_of
from tests.helpers.sd_prompts import txt2img


def _counting(monkeypatch):
    calls = []
    real = context_cache.linear

    def linear(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(context_cache, "linear", linear)
    return calls, torch.nn.functional.linear


def test_reuses_only_for_the_same_context_and_weights(monkeypatch):
    calls, reference = _counting(monkeypatch)
    layer = torch.nn.Linear(6, 4)
    layer.__class__ = ContextProjection
    context = torch.randn(2, 5, 6)
    with torch.no_grad():
        first = layer(context)
        assert layer(context) is first  # the same tensor again
        assert torch.equal(layer(context.clone()), first)  # an equal new tensor (the next step's context)
        assert len(calls) == 1
        other = layer(torch.randn(2, 5, 6))
        assert len(calls) == 2 and not torch.equal(other, first)
        layer.weight.add_(1.0)  # a LoRA patched in place
        patched = layer(context)
        assert len(calls) == 3
        torch.testing.assert_close(patched, reference(context, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
        context.mul_(2.0)  # the caller changed its tensor in place
        torch.testing.assert_close(layer(context), reference(context, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
        assert len(calls) == 4
        forget_contexts(torch.nn.Sequential(layer))
        layer(context)
        assert len(calls) == 5


def test_training_is_never_served_from_memory():
    layer = torch.nn.Linear(3, 3)
    layer.__class__ = ContextProjection
    x = torch.randn(4, 3)
    layer(x).sum().backward()
    layer(x).sum().backward()
    assert layer._memo is None  # nothing remembered while autograd records
    torch.testing.assert_close(layer.weight.grad, 2 * x.sum(0).expand(3, 3))


def _engine(env, registry):
    return Engine(registry, env, models=ModelManager(cpu=True))


def test_only_cross_attention_and_bit_identical_sampling(sd_env, registry):
    engine = _engine(sd_env, registry)
    prompt = txt2img(steps=3, cfg=5.0)
    cached = latent_of(sd_env, engine.execute(Job("a", prompt, ["6"]), lambda *a: None, threading.Event()))
    model = engine.models.load(engine.models.cached_keys()[0], None)[0]
    unet = model.unet.module
    kinds = {name: type(m) for name, m in unet.named_modules() if name.endswith((".to_k", ".to_v"))}
    assert kinds and all((k is ContextProjection) == (".attn2." in name) for name, k in kinds.items())
    assert cache_context_projections(unet) == 0  # prepared once; clones do not walk it again
    for m in unet.modules():  # the same model and kernels, projections without memory
        if isinstance(m, ContextProjection):
            m.__class__ = OneDNNLinear
    plain_engine = Engine(registry, sd_env, models=engine.models)  # same loaded model, no output cache
    plain = latent_of(sd_env, plain_engine.execute(Job("b", prompt, ["6"]), lambda *a: None, threading.Event()))
    assert torch.equal(cached, plain)

"""Large weights kept as the file stores them are viewed from the file's pages at load (no copy on the
cold path) and copied into memory when the server is next idle, so a checkpoint rewritten on disk
afterwards cannot change or fault a loaded model. Meta-device builds skip layer initialisation."""

from __future__ import annotations

import asyncio
import gc
import os
from unittest import mock

import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.models import mapped_weights
from nodeflow.models.checkpoint_file import ModelFileError
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.manager import ModelManager
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api
from tests.helpers.sd_prompts import txt2img

from .tiny import write_tiny_sd1


@pytest.fixture
def map_everything(monkeypatch):
    """The tiny models' tensors are far below the 1 MB a real file's tensor must have to be mapped."""
    monkeypatch.setattr(mapped_weights, "MIN_BYTES", 0)


@pytest.fixture(scope="module")
def half_file(tmp_path_factory):
    return write_tiny_sd1(tmp_path_factory.mktemp("mapped") / "tiny16.safetensors", dtype=torch.float16)


def _mapped(module: torch.nn.Module) -> list[str]:
    return [name for name, p in module.named_parameters() if mapped_weights.is_mapped(p)]


def _latent(model, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    x, t, context = torch.randn(2, 4, 8, 8), torch.tensor([500.0, 500.0]), torch.randn(2, 77, 32)
    with torch.no_grad():
        return model.apply(x, t, context)


def _release() -> None:
    gc.collect()


def test_kept_weights_are_viewed_from_the_file_then_copied_in_with_the_same_values(map_everything, half_file, tmp_path):
    reference, _, _ = load_checkpoint(half_file, ModelManager(cpu=True), output_clip=False, output_vae=False)
    with mock.patch.object(mapped_weights, "MIN_BYTES", 1 << 62):  # nothing mapped: read as before
        read, _, _ = load_checkpoint(half_file, ModelManager(cpu=True), output_clip=False, output_vae=False)
    assert _mapped(read.unet.module) == []

    model, clip, _ = load_checkpoint(half_file, ModelManager(cpu=True), output_vae=False)
    mapped = _mapped(model.unet.module)
    conv = "conv_in.weight"
    assert conv in mapped and model.unet.module.get_parameter(conv).dtype == torch.float16
    assert not any(n.endswith("bias") or "norm" in n for n in mapped)  # widened to fp32: their own memory
    assert _mapped(clip.encoders[0].model.module)  # the CLIP tower keeps 16-bit weights too
    expected = _latent(read)
    assert torch.equal(_latent(model), expected)

    copied = mapped_weights.materialize()
    assert copied > 0
    assert _mapped(model.unet.module) == [] and _mapped(clip.encoders[0].model.module) == []
    del reference
    _release()
    assert mapped_weights.mapped_bytes() == 0  # every mapping closed with its last view
    assert mapped_weights.materialize() == 0  # nothing left to copy

    os.truncate(half_file, 0)  # the file rewritten in place: the copied-in model does not notice
    try:
        assert torch.equal(_latent(model), expected)
    finally:
        write_tiny_sd1(half_file, dtype=torch.float16)


def test_a_file_shorter_than_its_header_says_is_refused_not_mapped(map_everything, half_file, tmp_path):
    short = tmp_path / "short.safetensors"
    data = half_file.read_bytes()
    short.write_bytes(data[: len(data) - 4096])
    with pytest.raises(ModelFileError, match=r"truncated|ended inside tensor"):
        load_checkpoint(short, ModelManager(cpu=True))
    _release()
    assert mapped_weights.mapped_bytes() == 0


async def test_the_server_copies_mapped_weights_in_once_the_queue_is_idle(
    map_everything, aiohttp_client, env, registry, half_file
):
    mapped_weights.materialize()
    os.link(half_file, env.models_dir / "checkpoints" / "tiny.safetensors")
    engine = Engine(registry, env, models=ModelManager(cpu=True))
    api = Api(await aiohttp_client(create_app(ServerConfig(), registry, engine, env)), env)
    status, body = await api.queue(txt2img(steps=2, save="PreviewImage"))
    assert status == 200, body
    history = await api.wait_history(body["prompt_id"], timeout=120)
    assert history["status"]["completed"] is True
    for _ in range(200):  # the worker copies them in after the result, when it finds the queue empty
        _release()
        if mapped_weights.mapped_bytes() == 0:
            break
        await asyncio.sleep(0.05)
    assert mapped_weights.mapped_bytes() == 0
    model = engine.models.load(engine.models.cached_keys()[0], lambda: None)[0]
    assert model.unet.module.get_parameter("conv_in.weight").dtype == torch.float16  # still 16-bit, now in memory
    assert _mapped(model.unet.module) == []


def test_layers_built_on_the_meta_device_skip_initialising_and_elsewhere_initialise_as_torch():
    import nodeflow.models.meta_build  # noqa: F401 -- installs the meta check

    with mock.patch("torch.nn.init.kaiming_uniform_", wraps=torch.nn.init.kaiming_uniform_) as init:
        with torch.device("meta"):
            torch.nn.Linear(8, 4)
            torch.nn.Conv2d(3, 5, 3)
        assert init.call_count == 0
        torch.manual_seed(3)
        layer = torch.nn.Linear(8, 4)
        assert init.call_count == 1
    torch.manual_seed(3)
    weight = torch.empty(4, 8)
    torch.nn.init.kaiming_uniform_(weight, a=5**0.5)  # what torch's Linear.reset_parameters draws first
    assert torch.equal(layer.weight.detach(), weight)
    with mock.patch("torch.nn.init.normal_", wraps=torch.nn.init.normal_) as normal:
        with torch.device("meta"):
            torch.nn.Embedding(10, 4)
        assert normal.call_count == 0
        torch.nn.Embedding(10, 4)
        assert normal.call_count == 1

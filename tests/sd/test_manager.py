"""The model manager: cache by key, LRU eviction over the RAM budget, dtype policy, free, stats."""

import torch

from nodeflow.models.manager import ModelManager


def test_cache_returns_the_same_object_and_evicts_least_recently_used():
    manager = ModelManager(cpu=True, ram_budget_gb=(2 * 4 * 1024 * 1024 + 1000) / 2**30)  # room for two 4 MiB models
    calls = []

    def make(name):
        def factory():
            calls.append(name)
            return torch.nn.Linear(1024, 1024, bias=False)  # 4 MiB of fp32

        return factory

    a = manager.load(("a",), make("a"))
    assert manager.load(("a",), make("a")) is a and calls == ["a"]
    manager.load(("b",), make("b"))
    manager.load(("a",), make("a"))  # touch a: b is now the least recently used
    manager.load(("c",), make("c"))
    assert set(manager.cached_keys()) == {("a",), ("c",)}
    manager.free()
    assert manager.cached_keys() == []
    assert manager.stats()["models_loaded"] == 0


def test_dtype_policy():
    assert ModelManager(cpu=True).dtype("unet") == torch.float32
    forced = ModelManager(cpu=True, force_dtype=torch.float16)
    assert forced.dtype("unet") == torch.float16 and forced.dtype("vae") == torch.float32


def test_system_stats_reports_the_device():
    import main

    info = main.torch_system_info(ModelManager(cpu=True))
    assert info["pytorch_version"] == torch.__version__
    assert info["devices"][0]["type"] == "cpu" and "vram_total" in info["devices"][0]


def test_use_on_cpu_keeps_the_module_in_place():
    manager = ModelManager(cpu=True)
    layer = torch.nn.Linear(2, 2)
    with manager.use(layer) as device:
        assert device.type == "cpu" and layer.weight.device.type == "cpu"


def test_out_of_memory_unloads_models_and_says_what_to_do():
    import pytest

    from nodeflow.models.manager import OutOfMemory

    manager = ModelManager(cpu=True)
    manager.load(("big",), lambda: torch.nn.Linear(4, 4))
    with pytest.raises(OutOfMemory, match=r"unloaded.*lowvram"), manager.use(torch.nn.Linear(2, 2)):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert manager.cached_keys() == []


# -- real checkpoints (review 5.1-D: a checkpoint is cached as a (model, clip, vae) tuple) -----------
def _load_checkpoint_prompt(engine, name):
    import threading

    from nodeflow.engine.job import Job

    prompt = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": name}}}
    result = engine.execute(Job(f"load-{name}", prompt, ["1"]), lambda *a: None, threading.Event())
    assert result.status == "success", result.error


def test_a_loaded_checkpoint_counts_its_real_bytes(registry, sd_env, tiny_ckpt_file):
    from nodeflow.engine.executor import Engine
    from nodeflow.models.manager import entry_bytes

    manager = ModelManager(cpu=True)
    _load_checkpoint_prompt(Engine(registry, sd_env, models=manager), "tiny.safetensors")
    (key,) = manager.cached_keys()
    model, clip, vae = manager.load(key, lambda: None)
    expected = model.memory_bytes() + clip.memory_bytes() + vae.memory_bytes()
    assert expected > 0.9 * tiny_ckpt_file.stat().st_size  # fp32 file: about the weights' size
    assert entry_bytes((model, clip, vae)) >= expected
    assert manager.stats()["models_bytes"] == entry_bytes((model, clip, vae))


def test_ram_budget_evicts_the_least_recently_used_checkpoint(registry, sd_env, tiny_ckpt_file):
    import os

    from nodeflow.engine.executor import Engine

    os.link(tiny_ckpt_file, sd_env.models_dir / "checkpoints" / "second.safetensors")
    budget = 1.5 * tiny_ckpt_file.stat().st_size  # room for one loaded checkpoint, not two
    manager = ModelManager(cpu=True, ram_budget_gb=budget / 2**30)
    engine = Engine(registry, sd_env, models=manager)
    _load_checkpoint_prompt(engine, "tiny.safetensors")
    _load_checkpoint_prompt(engine, "second.safetensors")
    keys = manager.cached_keys()
    assert len(keys) == 1 and keys[0][1].endswith("second.safetensors")
    assert 0 < manager.stats()["models_bytes"] <= budget


def test_entry_bytes_counts_shared_modules_and_tensors_once():
    from nodeflow.models.manager import entry_bytes

    layer = torch.nn.Linear(256, 256, bias=False)  # 256 KiB of fp32
    size = 256 * 256 * 4
    assert entry_bytes(layer) == size
    assert entry_bytes((layer, [layer], {"again": layer})) == size
    assert entry_bytes((layer, layer.weight, layer.weight.view(-1))) == size
    assert entry_bytes({"a": torch.zeros(10), "b": None, "c": "text"}) == 40
    assert entry_bytes(object()) == 0


async def test_system_stats_reports_the_bytes_of_a_loaded_checkpoint(aiohttp_client, sd_env, registry):
    import main
    from nodeflow.engine.executor import Engine
    from nodeflow.server.app import create_app
    from nodeflow.server.config import ServerConfig
    from tests.helpers.api_client import Api

    manager = ModelManager(cpu=True)
    config = ServerConfig(system_info=lambda: main.torch_system_info(manager))
    api = Api(
        await aiohttp_client(create_app(config, registry, Engine(registry, sd_env, models=manager), sd_env)), sd_env
    )
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "2": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }
    status, body = await api.queue(prompt)
    assert status == 200, body
    assert (await api.wait_history(body["prompt_id"], timeout=120))["status"]["status_str"] == "success"
    stats = await (await api.client.get("/system_stats")).json()
    device = stats["devices"][0]
    assert device["models_loaded"] == 1 and device["models_bytes"] > 1_000_000


def test_entry_bytes_counts_an_upscale_model():
    from nodeflow.demo.plan import pack_path
    from nodeflow.models.manager import entry_bytes
    from nodeflow.models.upscaler import load_upscale_model

    descriptor = load_upscale_model(pack_path("upscaler"))
    expected = sum(p.numel() * p.element_size() for p in descriptor.model.parameters())
    assert entry_bytes(descriptor) >= expected > 0

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
    with pytest.raises(OutOfMemory, match="unloaded.*lowvram"):
        with manager.use(torch.nn.Linear(2, 2)):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert manager.cached_keys() == []

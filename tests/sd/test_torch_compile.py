"""ComfyUI's TorchCompileModel: schema, one compiled network per loaded network and backend shared by
clones and prompts, inductor's cache under user/cache, clear errors naming the node, and (slow:
inductor compiles the tiny UNet in 30-120 s on 2 cores) results within 1e-4 of the plain network,
LoRAs honoured, and the same through POST /prompt."""

import os
import threading

import pytest
import torch
from safetensors.torch import load_file

from nodeflow.engine.context import ExecutionContext
from nodeflow.engine.executor import Engine
from nodeflow.models import compiled
from nodeflow.models.compiled import CompiledNetwork, CompileError
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.lora import apply_lora, load_lora
from nodeflow.models.manager import ModelManager
from nodeflow.nodes.compile_nodes import TorchCompileModel
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api
from tests.helpers.lora_files import kohya_lora
from tests.helpers.sd_prompts import txt2img

from .test_fast_modes import forward


@pytest.fixture
def cache_env(monkeypatch):
    """TORCHINDUCTOR_CACHE_DIR as the user left it, restored after the test."""
    monkeypatch.setenv(compiled.CACHE_ENV, os.environ.get(compiled.CACHE_ENV, ""))
    monkeypatch.delenv(compiled.CACHE_ENV)
    monkeypatch.setattr(compiled, "USER_CACHE_DIR", None)
    return monkeypatch


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """One inductor cache for the slow tests of this file: the first compiles, the others hit it."""
    return tmp_path_factory.mktemp("torchinductor")


@pytest.fixture
def shared_cache(cache_env, kernels):
    cache_env.setattr(compiled, "USER_CACHE_DIR", str(kernels))
    return kernels


def compile_node(env, manager):
    node = TorchCompileModel()
    node.ctx = ExecutionContext("p", "20", lambda kind, data: None, threading.Event(), env=env, models=manager)
    return node


def test_schema_matches_comfyui(registry, sd_env):
    info = registry.object_info(sd_env)["TorchCompileModel"]
    assert info["category"] == "_for_testing" and info["experimental"] is True
    assert info["input"]["required"]["backend"][0] == ["inductor", "cudagraphs"]
    assert info["input"]["required"]["model"][0] == "MODEL" and info["output"] == ["MODEL"]


def test_one_compiled_network_shared_by_clones_and_runs(sd_env, tiny_ckpt_file, cache_env):
    manager = ModelManager(cpu=True)
    model, _, _ = load_checkpoint(tiny_ckpt_file, manager, output_vae=False, output_clip=False)
    node = compile_node(sd_env, manager)
    first, second = node.run(model, "inductor"), node.run(model.clone(), "inductor")
    assert first is not model and model.compiled is None  # a clone; the input model stays plain
    assert first.compiled is second.compiled is manager.compiled(model.unet.module, "inductor")
    assert first.clone().compiled is first.compiled  # later nodes' clones keep it
    assert os.environ[compiled.CACHE_ENV] == str(sd_env.user_dir / "cache" / "torchinductor")


def test_a_users_own_cache_folder_is_kept(sd_env, tmp_path, cache_env):
    cache_env.setattr(compiled, "USER_CACHE_DIR", str(tmp_path / "mine"))
    assert compiled.use_compile_cache(sd_env.user_dir) == tmp_path / "mine"
    assert os.environ[compiled.CACHE_ENV] == str(tmp_path / "mine")


def test_compile_failures_name_the_node():
    def broken_backend(graph, example_inputs):
        raise RuntimeError("no kernel for this")

    network = CompiledNetwork(torch.nn.Linear(3, 3), "inductor")
    network.compiled = torch.compile(network.module, backend=broken_backend)
    with pytest.raises(CompileError, match=r"TorchCompileModel: torch\.compile with backend 'inductor' failed"):
        network(torch.ones(1, 3))
    with pytest.raises(ValueError, match="unknown backend 'tvm'"):
        compiled.compiled_module(torch.nn.Linear(3, 3), "tvm")


async def test_cudagraphs_without_a_gpu_is_an_execution_error(aiohttp_client, sd_env, registry):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: cudagraphs can run")
    prompt = txt2img(steps=1)
    prompt["20"] = {"class_type": "TorchCompileModel", "inputs": {"model": ["1", 0], "backend": "cudagraphs"}}
    prompt["5"]["inputs"]["model"] = ["20", 0]
    app = create_app(ServerConfig(), registry, Engine(registry, sd_env, models=ModelManager(cpu=True)), sd_env)
    api = Api(await aiohttp_client(app), sd_env)
    status, body = await api.queue(prompt)
    assert status == 200, body
    history = await api.wait_history(body["prompt_id"], timeout=60)
    errors = [d for kind, d in history["status"]["messages"] if kind == "execution_error"]
    assert errors and errors[0]["node_type"] == "TorchCompileModel"
    assert "backend 'cudagraphs' needs a CUDA GPU" in errors[0]["exception_message"]


@pytest.mark.slow  # inductor compiles the tiny UNet: 1-4 min of CPU on 2 cores (~5 min on a busy machine)
@pytest.mark.timeout(900)
def test_compiled_network_matches_the_plain_one_and_honours_loras(sd_env, tiny_ckpt_file, tmp_path, shared_cache):
    manager = ModelManager(cpu=True)
    model, _, _ = load_checkpoint(tiny_ckpt_file, manager, output_vae=False, output_clip=False)
    fast = compile_node(sd_env, manager).run(model, "inductor")
    exact, out = forward(model), forward(fast)
    assert float((out - exact).abs().max()) <= 1e-4
    kohya_lora(tmp_path / "l.safetensors", alpha=2.0)
    groups = load_lora(tmp_path / "l.safetensors")
    plain_lora, _, _ = apply_lora(model, None, groups, 1.0, 0.0, "l")
    fast_lora, _, _ = apply_lora(fast, None, groups, 1.0, 0.0, "l")
    assert fast_lora.compiled is fast.compiled
    with_lora = forward(plain_lora)
    assert float((with_lora - exact).abs().max()) > 1e-3  # the LoRA changes the output ...
    assert float((forward(fast_lora) - with_lora).abs().max()) <= 1e-4  # ... the compiled network too
    assert float((forward(fast) - exact).abs().max()) <= 1e-4  # and drops it again
    # kernels kept for the next start: inductor writes under this folder (a compile earlier in the same
    # pytest process may be served from inductor's in-memory caches, so the folder's content is not checked)
    assert os.environ[compiled.CACHE_ENV] == str(shared_cache)
    # the context-projection memo and small-map convolutions keep no Python-side state while traced:
    # a third call with new weights and an equal context does not recompile (dynamo counts frames)
    from torch._dynamo.utils import counters

    graphs = counters["stats"]["unique_graphs"]
    forward(fast_lora)
    forward(fast)
    assert counters["stats"]["unique_graphs"] == graphs


@pytest.mark.slow  # the same compile through a server: seconds after the test above, minutes alone
@pytest.mark.timeout(900)
async def test_torch_compile_model_through_post_prompt(aiohttp_client, sd_env, registry, shared_cache):
    manager = ModelManager(cpu=True)
    app = create_app(ServerConfig(), registry, Engine(registry, sd_env, models=manager), sd_env)
    api = Api(await aiohttp_client(app), sd_env)
    latents = []
    for compile_it in (False, True):
        prompt = txt2img(steps=2, seed=3)
        prompt["6"]["inputs"]["filename_prefix"] = f"lat/{'compiled' if compile_it else 'plain'}"
        if compile_it:
            prompt["20"] = {"class_type": "TorchCompileModel", "inputs": {"model": ["1", 0], "backend": "inductor"}}
            prompt["5"]["inputs"]["model"] = ["20", 0]
        status, body = await api.queue(prompt)
        assert status == 200, body
        history = await api.wait_history(body["prompt_id"], timeout=850)
        assert history["status"]["status_str"] == "success", history["status"]
        record = history["outputs"]["6"]["latents"][0]
        latents.append(load_file(str(sd_env.output_dir / record["subfolder"] / record["filename"]))["latent_tensor"])
    plain, fast = latents
    (key,) = manager.cached_keys()
    network = manager.load(key, None)[0].unet.module  # the checkpoint both prompts ran
    assert manager.compiled(network, "inductor").compiled._orig_mod is network
    assert torch.isfinite(fast).all()
    # two steps of CFG 5 amplify the network's 1e-6-level reordering differences
    assert float((fast - plain).abs().max()) <= 1e-3 * float(plain.abs().max())

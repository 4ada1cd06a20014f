"""A pack in the style of real ComfyUI packs (comfy_census_pack.py) that imports every census symbol
of comfy.ops / comfy.ldm / comfy.controlnet / comfy.hooks / the text encoders / comfy_extras at
import time, loaded by NodeFlow's plugin loader and run through a real aiohttp server via POST
/prompt: its nodes use comfy.ops.manual_cast.Linear, optimized_attention, Noise_RandomNoise,
LatentBatch and a subclass of AlignYourStepsScheduler, and the results are checked against
hand-written computations."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.plugins.loader import load_plugins
from nodeflow.schema.registry import builtin_registry
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api

PACK = Path(__file__).with_name("comfy_census_pack.py")
AYS_SDXL = [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029]  # the paper's Table 3


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs") / "custom_nodes"
    (folder / "comfy_census").mkdir(parents=True)
    shutil.copy(PACK, folder / "comfy_census" / "__init__.py")
    registry = builtin_registry()
    statuses = {s.name: s for s in load_plugins(registry, [folder])}
    return registry, statuses["comfy_census"], sys.modules["custom_nodes.comfy_census"]


def test_the_pack_imports_every_census_symbol(loaded):
    _registry, status, module = loaded
    assert status.ok, status.error
    assert sorted(status.nodes) == ["CensusAYS", "CensusAttention", "CensusNoiseLatent", "CensusReport", "CensusSigmas"]
    # the census lists 78 symbols in these modules; 3 are absent in ComfyUI itself (ABSENT below)
    assert len(module.CENSUS) == 75 and all(value is not None for value in module.CENSUS.values())
    # what ComfyUI lacks too fails the same way (ImportError), naming the symbol
    assert sorted(module.ABSENT) == [
        "comfy.ldm.modules.attention.attention",
        "comfy.sd3_clip",
        "comfy_extras.nodes_model_advanced.rescale_zero_terminal_snr_sigmas",
    ]
    assert (
        "rescale_zero_terminal_snr_sigmas"
        in module.ABSENT["comfy_extras.nodes_model_advanced.rescale_zero_terminal_snr_sigmas"]
    )


@pytest.fixture
async def api(aiohttp_client, env, loaded):
    registry = loaded[0]
    config = ServerConfig(max_upload_mb=1, max_upload_pixels=4_000_000, max_history=50)
    return Api(await aiohttp_client(create_app(config, registry, Engine(registry, env), env)), env)


def hand_attention(x: torch.Tensor, seed: int, heads: int) -> torch.Tensor:
    """CensusAttention written out: fp16-rounded weights, explicit softmax attention."""
    b, c, h, w = x.shape
    width = 4 * heads
    g = torch.Generator().manual_seed(seed)
    wq, wk, wv = (torch.randn(width, c, generator=g).half().float() for _ in range(3))
    wo = torch.randn(c, width, generator=g).half().float()
    bo = torch.randn(c, generator=g).half().float()
    tokens = x.flatten(2).transpose(1, 2)

    def split(t):
        return t.reshape(b, -1, heads, width // heads).transpose(1, 2)

    q, k, v = split(tokens @ wq.T), split(tokens @ wk.T), split(tokens @ wv.T)
    weights = torch.softmax(q @ k.transpose(-1, -2) / (width // heads) ** 0.5, dim=-1)
    attended = (weights @ v).transpose(1, 2).reshape(b, -1, width) @ wo.T + bo
    return x + attended.transpose(1, 2).reshape(b, c, h, w)


async def test_pack_nodes_run_through_post_prompt(api):
    prompt = {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 32, "height": 16, "batch_size": 1}},
        "2": {"class_type": "CensusNoiseLatent", "inputs": {"samples": ["1", 0], "seed": 3}},
        "3": {"class_type": "CensusAttention", "inputs": {"samples": ["2", 0], "seed": 5, "heads": 2}},
        "4": {"class_type": "CensusReport", "inputs": {"samples": ["3", 0]}},
        "5": {"class_type": "CensusAYS", "inputs": {"model_type": "SDXL", "steps": 5, "denoise": 1.0}},
        "6": {"class_type": "CensusSigmas", "inputs": {"sigmas": ["5", 0]}},
    }
    status, body = await api.queue(prompt)
    assert status == 200, body
    entry = await api.wait_history(body["prompt_id"], timeout=60)
    assert entry["status"]["status_str"] == "success", entry["status"]

    report = json.loads(entry["outputs"]["4"]["text"][0])
    assert report["shape"] == [2, 4, 2, 4] and report["batch_index"] == [0, 0]  # LatentBatch's indices
    noise = torch.cat([torch.randn((1, 4, 2, 4), generator=torch.Generator().manual_seed(s)) for s in (3, 4)])
    expected = hand_attention(noise, seed=5, heads=2)
    got = torch.tensor(report["values"]).reshape(2, 4, 2, 4)
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()

    sigmas = json.loads(entry["outputs"]["6"]["text"][0])
    logs = np.interp(np.linspace(0, 1, 6), np.linspace(0, 1, 11), np.log(AYS_SDXL[::-1]))
    assert sigmas[:-1] == pytest.approx(list(np.exp(logs)[::-1][:-1]), rel=1e-6) and sigmas[-1] == 0.0
    assert sigmas[0] == pytest.approx(14.615)


async def test_object_info_of_a_pack_subclass_of_a_comfy_extras_node(api):
    r = await api.client.get("/object_info/CensusAYS")
    info = (await r.json())["CensusAYS"]
    assert info["display_name"] == "Align Your Steps (census pack)" and info["category"] == "census"
    assert info["input"]["required"]["model_type"][0] == ["SD1", "SDXL", "SVD"]
    assert info["output"] == ["SIGMAS"]

import os

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.models.manager import ModelManager
from nodeflow.schema.registry import builtin_registry
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api

from .tiny_flow import flux_state, save, sd35_medium_state, text_encoder_state, vae_state


@pytest.fixture(scope="session")
def flow_files(tmp_path_factory):
    """Tiny released-layout files: an SD3.5 single file (MMDiT + VAE), an all-in-one SD3.5 with its
    text encoders, Flux dev and schnell transformers, the Flux VAE and the three text encoders."""
    d = tmp_path_factory.mktemp("flow")
    return {
        "checkpoints/sd35_medium.safetensors": save(sd35_medium_state(), d / "sd35.safetensors"),
        "checkpoints/sd35_medium_incl_clips.safetensors": save(
            sd35_medium_state(with_text=True), d / "sd35all.safetensors"
        ),
        "unet/flux1-dev.safetensors": save(flux_state("dev"), d / "flux_dev.safetensors"),
        "unet/flux1-schnell.safetensors": save(flux_state("schnell", seed=3), d / "flux_schnell.safetensors"),
        "vae/ae.safetensors": save(vae_state(), d / "ae.safetensors"),
        "text_encoders/clip_l.safetensors": save(text_encoder_state("clip_l"), d / "clip_l.safetensors"),
        "text_encoders/clip_g.safetensors": save(text_encoder_state("clip_g"), d / "clip_g.safetensors"),
        "text_encoders/t5xxl_fp16.safetensors": save(text_encoder_state("t5xxl"), d / "t5.safetensors"),
    }


@pytest.fixture
def flow_env(env, flow_files):
    for name, path in flow_files.items():
        os.link(path, env.models_dir / name)
    return env


@pytest.fixture(scope="session")
def registry():
    return builtin_registry()


@pytest.fixture
async def api(aiohttp_client, flow_env, registry):
    app = create_app(ServerConfig(), registry, Engine(registry, flow_env, models=ModelManager(cpu=True)), flow_env)
    return Api(await aiohttp_client(app), flow_env)

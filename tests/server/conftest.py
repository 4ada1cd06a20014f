import pytest

from nodeflow.engine.executor import Engine
from nodeflow.schema.registry import Registry
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.engine import toy_nodes
from tests.helpers.api_client import Api


@pytest.fixture
def registry():
    reg = Registry()
    reg.add_module(toy_nodes)
    from nodeflow.nodes import display

    reg.add_module(display)
    return reg


@pytest.fixture
async def api(aiohttp_client, env, registry, tmp_path):
    config = ServerConfig(max_upload_mb=1, max_upload_pixels=4_000_000, max_history=50)
    app = create_app(config, registry, Engine(registry, env), env)
    client = await aiohttp_client(app)
    return Api(client, env)

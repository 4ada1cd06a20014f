"""The classic txt2img workflow through the HTTP/websocket API of a real server: progress, binary
latent previews every step, the image in history, and the checkpoint listed in /models."""

import struct

from nodeflow.engine.executor import Engine
from nodeflow.models.manager import ModelManager
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api, receive_until
from tests.helpers.sd_prompts import txt2img


async def test_txt2img_through_the_api(aiohttp_client, sd_env, registry):
    app = create_app(ServerConfig(), registry, Engine(registry, sd_env, models=ModelManager(cpu=True)), sd_env)
    api = Api(await aiohttp_client(app), sd_env)
    r = await api.client.get("/models/checkpoints")
    assert await r.json() == ["tiny.safetensors"]
    ws = await api.ws("sd")
    status, body = await api.queue(txt2img(steps=3, save="SaveImage"), client_id="sd")
    assert status == 200, body
    seen = await receive_until(ws, "execution_success", prompt_id=body["prompt_id"], timeout=120)
    progress = [d["value"] for kind, d in seen if kind == "progress" and d["node"] == "5"]
    assert progress == [1, 2, 3]
    previews = [d for kind, d in seen if kind == "binary"]
    assert len(previews) == 3 and struct.unpack(">II", previews[0][:8]) == (1, 1)
    history = await api.wait_history(body["prompt_id"])
    image = history["outputs"]["7"]["images"][0]
    r = await api.client.get(f"/view?filename={image['filename']}&type=output")
    assert r.status == 200 and (await r.read())[:8] == b"\x89PNG\r\n\x1a\n"
    await ws.close()

"""Binary websocket frames from a running node, and the editor page's security headers."""

import io
import struct
from pathlib import Path

from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import receive_until

ROOT = Path(__file__).resolve().parents[2]


async def test_preview_and_text_frames_reach_the_client(api):
    ws = await api.ws("p")
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 2}},
        "2": {"class_type": "Previewer", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    _, body = await api.queue(prompt, client_id="p")
    seen = await receive_until(ws, "execution_success", prompt_id=body["prompt_id"])
    frames = [data for kind, data in seen if kind == "binary"]
    assert len(frames) == 2
    kind, fmt = struct.unpack(">II", frames[0][:8])
    assert (kind, fmt) == (1, 1)
    with Image.open(io.BytesIO(frames[0][8:])) as img:
        assert img.format == "JPEG" and img.size == (8, 8)
    kind, length = struct.unpack(">II", frames[1][:8])
    assert kind == 3 and frames[1][8 : 8 + length] == b"2" and frames[1][8 + length :] == b"tok"
    await ws.close()


async def test_previews_are_made_only_for_a_connected_client(api):
    """Previews go to the prompt's client: with that client not connected nothing is made (API use
    without a websocket pays nothing for pictures nobody sees); connected, it gets them."""
    from nodeflow.server.keys import HUB

    seen = []
    api.client.app[HUB].observers.append(lambda event, data, sid: seen.append((event, sid)))

    def prompt(value):
        return {
            "1": {"class_type": "Const", "inputs": {"value": value}},
            "2": {"class_type": "Previewer", "inputs": {"value": ["1", 0]}},
            "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
        }

    _, body = await api.queue(prompt(5), client_id="away")
    await api.wait_history(body["prompt_id"])
    assert ("progress", "away") in seen and ("preview", "away") not in seen
    ws = await api.ws("here")
    _, body = await api.queue(prompt(6), client_id="here")
    events = await receive_until(ws, "execution_success", prompt_id=body["prompt_id"])
    assert ("preview", "here") in seen and any(kind == "binary" for kind, _ in events)
    await ws.close()


async def test_editor_page_is_served_with_a_strict_csp(aiohttp_client, env, registry):
    app = create_app(ServerConfig(web_dir=ROOT / "web"), registry, Engine(registry, env), env)
    client = await aiohttp_client(app)
    r = await client.get("/")
    assert r.status == 200 and "<html" in (await r.text()).lower()
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "object-src 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"

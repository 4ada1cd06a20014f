"""DNS rebinding: unknown Host names are refused on every route, the websocket included.
Remote access: with a token configured, every route answers 401 without it."""

import aiohttp
import pytest

from nodeflow.engine.executor import Engine
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from nodeflow.server.security import host_name, is_loopback


def test_host_parsing():
    assert host_name("Example.COM:8188") == "example.com" and host_name("[::1]:80") == "::1"
    assert all(is_loopback(h) for h in ("localhost", "127.0.0.1", "127.5.5.5", "::1", "app.localhost"))
    assert not any(is_loopback(h) for h in ("evil.com", "10.0.0.1", "0.0.0.0", "localhost.evil.com"))


async def test_unknown_host_names_are_refused_everywhere(api):
    for path in ("/", "/object_info", "/queue", "/view?filename=x.png", "/api/history"):
        r = await api.client.get(path, headers={"Host": "rebind.evil.com:8188"})
        assert r.status == 403, path
        assert "--allowed-hosts" in (await r.json())["error"]["message"]
    r = await api.client.post("/prompt", json={}, headers={"Host": "rebind.evil.com"})
    assert r.status == 403
    try:
        await api.client.ws_connect("/ws", headers={"Host": "rebind.evil.com"})
        raise AssertionError("websocket handshake accepted")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 403
    for host in ("localhost:8188", "127.0.0.1", "[::1]:8188", "LOCALHOST"):
        assert (await api.client.get("/prompt", headers={"Host": host})).status == 200, host


async def test_configured_host_names_are_served(aiohttp_client, env, registry):
    app = create_app(ServerConfig(allowed_hosts=["studio.lan"]), registry, Engine(registry, env), env)
    client = await aiohttp_client(app)
    assert (await client.get("/prompt", headers={"Host": "Studio.LAN:8188"})).status == 200
    assert (await client.get("/prompt", headers={"Host": "other.lan"})).status == 403


async def test_access_token_on_every_route(aiohttp_client, env, registry):
    app = create_app(ServerConfig(access_token="s3cret"), registry, Engine(registry, env), env)
    client = await aiohttp_client(app)
    for path in ("/", "/object_info", "/queue", "/history", "/system_stats"):
        r = await client.get(path)
        assert r.status == 401, path
    assert (await client.post("/prompt", json={"prompt": {}})).status == 401
    assert (await client.get("/queue?token=wrong")).status == 401
    assert (await client.get("/queue", headers={"Authorization": "Bearer s3cret"})).status == 200
    r = await client.get("/?token=s3cret")
    assert r.status == 200
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    assert (await client.get("/queue")).status == 200  # the cookie now carries it
    ws = await client.ws_connect("/ws?clientId=t")
    assert (await ws.receive_json())["type"] == "status"
    await ws.close()


@pytest.mark.slow  # 10 s of CPU: a server process
def test_binding_beyond_loopback_generates_and_requires_a_token(tmp_path):
    import re
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from tests.helpers.server_process import ROOT, free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--listen",
            "0.0.0.0",
            "--port",
            str(port),
            "--base-directory",
            str(tmp_path),
            "--disable-custom-nodes",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = ""
        deadline = time.time() + 60
        while "token=" not in line and time.time() < deadline:
            line = proc.stdout.readline()
        token = re.search(r"token=([\w-]+)", line).group(1)
        assert len(token) >= 24
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/queue", timeout=5)
                raise AssertionError("served without a token")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/queue?token={token}", timeout=5) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)

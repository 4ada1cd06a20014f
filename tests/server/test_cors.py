"""--enable-cors-header ORIGIN: named origins get CORS headers, preflights and pass the origin check;
every other origin is refused as before, '*' is refused at start, and the Host/token guards and
the JSON content-type rules still apply to the named origins."""

import subprocess
import sys

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.server.app import create_app
from nodeflow.server.cli_args import parser
from nodeflow.server.config import ServerConfig
from nodeflow.server.security import normalize_origin, parse_cors_origins
from tests.helpers.server_process import ROOT

APP = "https://app.example"
PROMPT = {"prompt": {"1": {"class_type": "Show", "inputs": {"value": 1}}}}


def cross_site(origin):
    """What a browser adds to a fetch() from a page on ``origin``."""
    return {"Origin": origin, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}


@pytest.fixture
async def client(aiohttp_client, env, registry):
    config = ServerConfig(cors_origins=[f"{APP}, http://localhost:5173"])
    return await aiohttp_client(create_app(config, registry, Engine(registry, env), env))


async def test_named_origin_gets_the_headers_and_may_queue(client):
    r = await client.post("/prompt", json=PROMPT, headers=cross_site(APP))
    assert r.status == 200, await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert "Origin" in r.headers["Vary"]
    # the request's own spelling is echoed, never '*'
    r = await client.get("/queue", headers={"Origin": "HTTPS://App.Example:443"})
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "HTTPS://App.Example:443"
    r = await client.post("/prompt", json=PROMPT, headers=cross_site("http://localhost:5173"))
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    r = await client.get("/no-such-route", headers={"Origin": APP})  # errors readable by the page too
    assert r.status == 404 and r.headers["Access-Control-Allow-Origin"] == APP


async def test_other_origins_are_still_refused(client):
    for origin in (
        "https://evil.example",
        "http://app.example",
        "https://app.example.evil.com",
        "null",
        "https://app.example:8443",
        "http://localhost:5174",
    ):
        r = await client.post("/prompt", json=PROMPT, headers=cross_site(origin))
        assert r.status == 403, origin
        assert "Access-Control-Allow-Origin" not in r.headers, origin
        assert "Origin" in r.headers["Vary"]
        r = await client.get("/queue", headers={"Origin": origin})
        assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
    r = await client.post("/prompt", json=PROMPT, headers={"Sec-Fetch-Site": "cross-site"})  # no Origin
    assert r.status == 403


async def test_preflight(client):
    ask = {"Origin": APP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for path in ("/prompt", "/api/prompt", "/userdata/a.json"):
        r = await client.options(path, headers=ask)
        assert r.status == 204, path
        assert r.headers["Access-Control-Allow-Origin"] == APP
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
        assert "Origin" in r.headers["Vary"]
    r = await client.options("/prompt", headers={**ask, "Origin": "https://evil.example"})
    assert r.status == 405 and "Access-Control-Allow-Origin" not in r.headers


async def test_other_guards_stay_in_force(aiohttp_client, env, registry):
    config = ServerConfig(cors_origins=[APP], access_token="s3cret")
    client = await aiohttp_client(create_app(config, registry, Engine(registry, env), env))
    ask = {"Origin": APP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    r = await client.options("/prompt", headers=ask)  # browsers send no credentials on a preflight
    assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == APP
    r = await client.options("/prompt", headers={**ask, "Host": "rebind.evil.com"})  # Host allow-list first
    assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
    r = await client.post("/prompt", json=PROMPT, headers=cross_site(APP))
    assert r.status == 401 and r.headers["Access-Control-Allow-Origin"] == APP
    bearer = {**cross_site(APP), "Authorization": "Bearer s3cret"}
    r = await client.post("/prompt", json=PROMPT, headers=bearer)
    assert r.status == 200
    r = await client.post("/prompt", data=b'{"prompt": {}}', headers={**bearer, "Content-Type": "text/plain"})
    assert r.status == 415  # a body a form could send is refused whatever the origin
    r = await client.post("/prompt", json=PROMPT, headers={**bearer, "Host": "rebind.evil.com"})
    assert r.status == 403


async def test_without_the_flag_nothing_changes(api):
    r = await api.client.get("/queue", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in r.headers and "Vary" not in r.headers
    r = await api.client.options("/prompt", headers={"Origin": APP, "Access-Control-Request-Method": "POST"})
    assert r.status == 405
    r = await api.client.post("/prompt", json=PROMPT, headers=cross_site(APP))
    assert r.status == 403


def test_origin_parsing():
    assert parse_cors_origins(["https://a.example, http://b.lan:8080/", "HTTPS://A.example:443"]) == [
        "https://a.example",
        "http://b.lan:8080",
    ]
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
    for bad in (
        "ftp://a.example",
        "https://a.example/app",
        "a.example",
        "https://u:p@a.example",
        "null",
        "https://a.example:99999",
    ):
        with pytest.raises(ValueError, match="not an origin"):
            parse_cors_origins([bad])
    for star in (["*"], ["https://a.example,*"], ["https://a.example", " * "]):
        with pytest.raises(ValueError, match="refused"):
            parse_cors_origins(star)
    assert parser().parse_args(
        ["--enable-cors-header", "https://a.example", "--enable-cors-header", "http://b.lan"]
    ).enable_cors_header == ["https://a.example", "http://b.lan"]
    assert parser().parse_args(["--enable-cors-header"]).enable_cors_header == ["*"]  # then refused


@pytest.mark.slow  # 11 s of CPU: server processes
def test_star_is_refused_at_start(env, registry):
    with pytest.raises(ValueError, match="every web site"):
        create_app(ServerConfig(cors_origins=["*"]), registry, Engine(registry, env), env)
    for flags in (["--enable-cors-header", "*"], ["--enable-cors-header"]):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--base-directory", str(env.base), *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr[-500:]
        assert "--enable-cors-header '*' is refused" in proc.stderr
        assert "NodeFlow:" not in proc.stdout  # never started

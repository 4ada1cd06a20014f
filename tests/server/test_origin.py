"""State-changing requests from other origins are refused; same-origin and scripts are served."""


async def test_cross_origin_posts_are_refused(api):
    host = f"{api.client.server.host}:{api.client.server.port}"
    body = {"prompt": {"1": {"class_type": "Show", "inputs": {"value": 1}}}}
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1", "file://", "http://" + host + ".evil.example"):
        r = await api.client.post("/prompt", json=body, headers={"Origin": origin})
        assert r.status == 403, origin
        assert "refused" in (await r.json())["error"]["message"]
    r = await api.client.post("/upload/image", data=b"", headers={"Origin": "null"})
    assert r.status == 403
    r = await api.client.post("/prompt", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status == 403
    r = await api.client.post("/prompt", json=body, headers={"Origin": f"http://{host.upper()}"})
    assert r.status == 200
    r = await api.client.post("/prompt", json=body)  # a script: no Origin
    assert r.status == 200
    r = await api.client.get("/queue", headers={"Origin": "http://evil.example"})
    assert r.status == 200  # reads are not state changes


async def test_form_encoded_posts_from_browsers_are_refused(api):
    r = await api.client.post(
        "/prompt",
        data=b'{"prompt": {}}',
        headers={"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Mode": "navigate"},
    )
    assert r.status == 415
    body = b'{"prompt": {"1": {"class_type": "Show", "inputs": {"value": 1}}}}'
    r = await api.client.post("/prompt", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200  # urllib-style scripts keep working

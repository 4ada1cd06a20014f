"""Uploads and /view stay inside their folders; only real images are accepted."""

import io
import json
import os

import aiohttp
from PIL import Image


def png(size=(8, 8), color=(255, 0, 0, 255), fmt="PNG"):
    buf = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, color if fmt == "PNG" else color[:3]).save(buf, format=fmt)
    return buf.getvalue()


def form(data, filename="a.png", **fields):
    f = aiohttp.FormData()
    f.add_field("image", data, filename=filename, content_type="application/octet-stream")
    for key, value in fields.items():
        f.add_field(key, value)
    return f


async def test_upload_then_view_round_trip_and_numbered_names(api):
    r = await api.client.post("/upload/image", data=form(png()))
    assert r.status == 200 and await r.json() == {"name": "a.png", "subfolder": "", "type": "input"}
    r = await api.client.post("/upload/image", data=form(png()))
    assert (await r.json())["name"] == "a (1).png"
    r = await api.client.post("/upload/image", data=form(png(), overwrite="true"))
    assert (await r.json())["name"] == "a.png"
    r = await api.client.post("/api/upload/image", data=form(png(), subfolder="sub/dir", type="temp"))
    assert await r.json() == {"name": "a.png", "subfolder": "sub/dir", "type": "temp"}
    r = await api.client.get("/view?filename=a.png&type=temp&subfolder=sub/dir")
    assert r.status == 200 and r.headers["Content-Type"] == "image/png" and await r.read() == png()
    r = await api.client.get("/view?filename=a.png&type=input&preview=webp;50")
    assert r.status == 200 and r.headers["Content-Type"] == "image/webp"
    r = await api.client.get("/view?filename=a.png&type=input&channel=a")
    assert r.status == 200
    assert (await api.client.get("/view?filename=missing.png&type=input")).status == 404


async def test_uploads_accept_only_images_whose_name_agrees(api):
    for data, name in (
        (b"<html><script>alert(1)</script></html>", "x.png"),
        (b"GIF89a-not-really", "y.gif"),
        (png(fmt="JPEG"), "z.png"),
    ):
        r = await api.client.post("/upload/image", data=form(data, filename=name))
        assert r.status == 400, name
        assert (await r.json())["error"]["message"]
    assert not os.listdir(api.env.input_dir)


async def test_upload_size_and_pixel_caps(api):
    big = os.urandom(2 * 1024 * 1024)
    r = await api.client.post("/upload/image", data=form(big))
    assert r.status == 413
    r = await api.client.post("/upload/image", data=form(png(size=(3000, 3000))))  # 9 MP > 4 MP cap
    assert r.status == 400 and "pixels" in (await r.json())["error"]["message"]


async def test_path_tricks_are_refused(api, tmp_path):
    outside = tmp_path.parent / "secret.txt"
    outside.write_text("TOPSECRET-CONTENT")
    os.symlink(outside, api.env.output_dir / "link.txt")
    os.symlink(tmp_path.parent, api.env.output_dir / "linkdir")
    for query in (
        "filename=../secret.txt",
        "filename=%2e%2e/secret.txt",
        "filename=/etc/passwd",
        "filename=..%5csecret.txt",
        "filename=a%00.png",
        "filename=link.txt",
        "filename=secret.txt&subfolder=..",
        "filename=secret.txt&subfolder=linkdir",
        "filename=C:/x.png",
        "filename=x&type=../../etc",
        "filename=" + "a" * 5000,
    ):
        r = await api.client.get(f"/view?{query}")
        assert r.status in (400, 403, 404), query
        assert b"TOPSECRET-CONTENT" not in await r.read()
    for fields in (
        {"subfolder": "../escape"},
        {"subfolder": "/abs"},
        {"subfolder": "linkdir", "type": "output"},
        {"type": "../x"},
    ):
        r = await api.client.post("/upload/image", data=form(png(), **fields))
        assert r.status in (400, 403), fields
    r = await api.client.post("/upload/image", data=form(png(), filename="../../evil.png"))
    assert r.status == 200 and (await r.json())["name"] == "evil.png"  # reduced to its base name, stays inside
    assert (api.env.input_dir / "evil.png").exists() and not (tmp_path.parent / "evil.png").exists()


async def test_active_content_is_never_served_inline(api):
    for name in ("page.html", "img.svg", "x.js", "s.css", "d.xml"):
        (api.env.output_dir / name).write_text("<script>alert(1)</script>")
        r = await api.client.get(f"/view?filename={name}")
        assert r.status == 200
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Type"] == "application/octet-stream"


async def test_upload_mask_puts_alpha_on_the_original(api):
    await api.client.post("/upload/image", data=form(png(color=(0, 0, 255, 255)), filename="orig.png"))
    mask = png(color=(0, 0, 0, 0))
    ref = json.dumps({"filename": "orig.png", "subfolder": "", "type": "input"})
    r = await api.client.post("/upload/mask", data=form(mask, filename="orig_mask.png", original_ref=ref))
    assert r.status == 200
    name = (await r.json())["name"]
    with Image.open(api.env.input_dir / name) as img:
        assert img.mode == "RGBA" and img.getpixel((0, 0)) == (0, 0, 255, 0)
    bad_ref = json.dumps({"filename": "../orig.png"})
    r = await api.client.post("/upload/mask", data=form(mask, original_ref=bad_ref))
    assert r.status == 400
    for not_a_ref in ("not json", "[1]", json.dumps({"filename": 3})):
        r = await api.client.post("/upload/mask", data=form(mask, original_ref=not_a_ref))
        assert r.status == 400 and "original_ref" in (await r.json())["error"]["message"]


async def test_image_work_runs_off_the_event_loop(api, monkeypatch):
    """A /view conversion and an upload's decode check run in a thread: while one is stuck, the
    server still answers other requests (on the loop, the second request could not be served)."""
    import asyncio
    import threading

    from nodeflow.server import routes_files

    r = await api.client.post("/upload/image", data=form(png()))
    assert r.status == 200
    release = threading.Event()
    for name in ("_converted", "check_image"):
        real = getattr(routes_files, name)

        def stuck(*args, real=real):
            assert release.wait(20), "image work ran on the event loop: the other request was never served"
            return real(*args)

        monkeypatch.setattr(routes_files, name, stuck)
    view = asyncio.ensure_future(api.client.get("/view?filename=a.png&type=input&preview=webp;50"))
    upload = asyncio.ensure_future(api.client.post("/upload/image", data=form(png(), filename="b.png")))
    await asyncio.sleep(0.2)
    stats = await asyncio.wait_for(api.client.get("/system_stats"), 10)
    assert stats.status == 200
    assert not view.done() and not upload.done()
    release.set()
    assert (await view).status == 200 and (await view).headers["Content-Type"] == "image/webp"
    assert (await upload).status == 200 and (await (await upload).json())["name"] == "b.png"

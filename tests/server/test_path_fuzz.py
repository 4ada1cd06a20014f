"""Every place a file name comes in, fed with path tricks: nothing outside its folder is read,
written or listed, and every answer is a 4xx (or a safe in-folder result), never a 500."""

import io
import json
import os
from urllib.parse import quote

import aiohttp
import pytest
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.graph.validate import validate_prompt
from nodeflow.nodes import image_io
from nodeflow.schema.registry import Registry

TRICKS = [
    "..",
    "../secret.txt",
    "../../secret.txt",
    "/etc/passwd",
    "C:\\secret.txt",
    "C:/secret.txt",
    "a\\..\\..\\secret.txt",
    "%2e%2e/secret.txt",
    "..%2fsecret.txt",
    "ok\x00.png",
    "a" * 300 + ".png",
    "\uff0e\uff0e/secret.txt",
    "sub/../../secret.txt",
    "./../secret.txt",
    "link/secret.txt",
    " ../secret.txt",
]
SECRET = b"TOPSECRET-FUZZ"


@pytest.fixture
def outside(api, tmp_path):
    secret = tmp_path.parent / "secret.txt"
    secret.write_bytes(SECRET)
    for folder in (api.env.input_dir, api.env.output_dir, api.env.temp_dir, api.env.user_dir / "default"):
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "link").exists():
            os.symlink(tmp_path.parent, folder / "link")
    return secret


def png():
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    return buf.getvalue()


def upload_form(filename="a.png", **fields):
    form = aiohttp.FormData()
    form.add_field("image", png(), filename=filename, content_type="image/png")
    for key, value in fields.items():
        form.add_field(key, value)
    return form


async def assert_safe(response, outside_dir):
    assert response.status < 500, await response.text()
    body = await response.read()
    assert SECRET not in body
    assert not (outside_dir / "a.png").exists() and not (outside_dir / "evil.png").exists()


@pytest.mark.parametrize("name", TRICKS)
async def test_http_entry_points(api, outside, name, tmp_path):
    parent = tmp_path.parent
    q = quote(name, safe="")
    for kind in ("input", "output", "temp"):
        await assert_safe(await api.client.get(f"/view?filename={q}&type={kind}"), parent)
        await assert_safe(await api.client.get(f"/view?filename=secret.txt&subfolder={q}&type={kind}"), parent)
    await assert_safe(await api.client.post("/upload/image", data=upload_form(subfolder=name)), parent)
    if "\x00" not in name:  # aiohttp's client itself refuses NUL in a header
        await assert_safe(await api.client.post("/upload/image", data=upload_form(filename=name)), parent)
    ref = json.dumps({"filename": name, "subfolder": "", "type": "input"})
    await assert_safe(await api.client.post("/upload/mask", data=upload_form(original_ref=ref)), parent)
    await assert_safe(await api.client.get(f"/userdata/{q}"), parent)
    await assert_safe(await api.client.get(f"/userdata?dir={q}"), parent)
    await assert_safe(await api.client.post(f"/userdata/{q}", data=b"x"), parent)
    await assert_safe(await api.client.post(f"/userdata/ok.json/move/{q}"), parent)
    await assert_safe(await api.client.delete(f"/userdata/{q}"), parent)
    assert outside.read_bytes() == SECRET  # never overwritten or moved


@pytest.mark.parametrize("name", TRICKS)
def test_node_entry_points(env, name, tmp_path):
    secret = tmp_path.parent / "secret.txt"
    secret.write_bytes(SECRET)
    registry = Registry()
    registry.add_module(image_io)
    os.symlink(tmp_path.parent, env.input_dir / "link") if not (env.input_dir / "link").exists() else None
    load = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
    }
    assert not validate_prompt(registry, env, load).ok  # not in the list of input files, or unsafe
    assert image_io.LoadImage.validate(env, image=name) is not True
    import threading

    from nodeflow.engine.job import Job
    from nodeflow.nodes.image_ops import EmptyImage

    save = {"1": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": name}}}
    registry.add_class(EmptyImage)
    save["9"] = {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0}}
    result = Engine(registry, env).execute(Job("p", save, ["1"]), lambda *a: None, threading.Event())
    written = [p for p in tmp_path.parent.iterdir() if p.suffix == ".png"]
    assert written == [] and secret.read_bytes() == SECRET
    if result.status == "success":  # a harmless name: the file landed inside the output folder
        for image in result.outputs["1"]["images"]:
            assert (env.output_dir / image["subfolder"] / image["filename"]).resolve().is_relative_to(env.output_dir)


def test_listing_a_folder_with_a_symlink_loop_terminates(env, tmp_path):
    (env.input_dir / "a.png").write_bytes(b"x")
    os.symlink(env.input_dir, env.input_dir / "loop")
    os.symlink(tmp_path, env.models_dir / "checkpoints" / "up")
    names = env.list_files("input")
    assert "a.png" in names and len(names) < 10
    assert isinstance(env.list_files("checkpoints"), list)


def test_input_listing_never_shows_files_outside(env, tmp_path):
    (tmp_path.parent / "private.png").write_bytes(b"x")
    os.symlink(tmp_path.parent, env.input_dir / "outdir")
    os.symlink(tmp_path.parent / "private.png", env.input_dir / "outfile.png")
    (env.input_dir / "mine.png").write_bytes(b"x")
    assert env.list_files("input") == ["mine.png"]

"""/object_info, /models, /embeddings, /system_stats, /free, /features, /extensions, /userdata."""

import tomllib
from pathlib import Path

import nodeflow


async def test_object_info_shape(api):
    info = await (await api.client.get("/object_info")).json()
    add = info["Add"]
    assert add["input"]["required"]["b"] == ["INT", {"default": 0, "min": -1000, "max": 1000}]
    assert add["input_order"] == {"required": ["a", "b"]}
    assert add["output"] == ["INT"] and add["output_is_list"] == [False] and add["output_name"] == ["INT"]
    assert add["name"] == "Add" and add["category"] == "test" and add["output_node"] is False
    assert info["Split"]["output_is_list"] == [True]
    one = await (await api.client.get("/api/object_info/Show")).json()
    assert list(one) == ["Show"] and one["Show"]["output_node"] is True
    assert (await api.client.get("/object_info/Nope")).status == 404


async def test_models_and_embeddings(api):
    (api.env.models_dir / "checkpoints" / "sub").mkdir(parents=True)
    (api.env.models_dir / "checkpoints" / "sub" / "a.safetensors").write_bytes(b"x")
    (api.env.models_dir / "checkpoints" / "notes.txt").write_text("x")
    (api.env.models_dir / "embeddings" / "bad-hands.pt").write_bytes(b"x")
    folders = await (await api.client.get("/models")).json()
    assert "checkpoints" in folders and "loras" in folders
    assert await (await api.client.get("/models/checkpoints")).json() == ["sub/a.safetensors"]
    assert (await api.client.get("/models/nope")).status == 404
    assert await (await api.client.get("/embeddings")).json() == ["bad-hands"]


async def test_system_stats_free_features_extensions(api):
    stats = await (await api.client.get("/system_stats")).json()
    assert stats["system"]["ram_total"] > 0 and "python_version" in stats["system"]
    assert isinstance(stats["devices"], list)
    assert stats["system"]["nodeflow_version"] == nodeflow.__version__
    openapi = await (await api.client.get("/openapi.json")).json()
    assert openapi["info"]["version"] == nodeflow.__version__
    assert (await api.post("/free", {"unload_models": True, "free_memory": True})).status == 200
    assert (await api.client.get("/features")).status == 200
    assert await (await api.client.get("/extensions")).json() == []


async def test_userdata_round_trip_and_containment(api):
    r = await api.client.post("/userdata/workflows%2Fmy%20flow.json", data=b'{"a": 1}')
    assert r.status == 200
    assert await (await api.client.get("/userdata?dir=workflows")).json() == ["my flow.json"]
    r = await api.client.get("/userdata/workflows%2Fmy%20flow.json")
    assert r.status == 200 and await r.json() == {"a": 1}
    assert r.headers["Content-Disposition"] == "attachment"
    r = await api.client.post("/userdata/workflows%2Fmy%20flow.json?overwrite=false", data=b"{}")
    assert r.status == 409
    r = await api.client.post("/userdata/workflows%2Fmy%20flow.json/move/workflows%2Frenamed.json")
    assert r.status == 200
    assert await (await api.client.get("/userdata?dir=workflows")).json() == ["renamed.json"]
    assert (await api.client.delete("/userdata/workflows%2Frenamed.json")).status == 204
    for name in ("..%2F..%2Fescape.json", "%2Fetc%2Fpasswd", "a%5Cb.json"):
        assert (await api.client.post(f"/userdata/{name}", data=b"x")).status == 400, name
        assert (await api.client.get(f"/userdata/{name}")).status in (400, 404), name
    assert (await api.client.get("/userdata?dir=..")).status == 400


def test_the_package_version_is_read_from_nodeflow():
    """One version string: nodeflow.__version__, which pyproject.toml reads (and the routes report)."""
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nodeflow.__version__"}

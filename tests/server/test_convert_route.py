"""POST /nodeflow/convert and /prompt with an editor workflow."""

from PIL import Image

from nodeflow.workflow.image_metadata import write_png


def editor_workflow():
    return {
        "version": 0.4,
        "last_node_id": 2,
        "last_link_id": 1,
        "groups": [],
        "config": {},
        "extra": {},
        "nodes": [
            {
                "id": 1,
                "type": "Const",
                "pos": [0, 0],
                "size": [100, 50],
                "mode": 0,
                "inputs": [],
                "outputs": [{"name": "INT", "type": "INT", "links": [1]}],
                "widgets_values": [7],
            },
            {
                "id": 2,
                "type": "Show",
                "pos": [200, 0],
                "size": [100, 50],
                "mode": 0,
                "inputs": [{"name": "value", "type": "*", "link": 1}],
                "outputs": [],
                "widgets_values": ["n="],
            },
        ],
        "links": [[1, 1, 0, 2, 0, "INT"]],
    }


async def test_convert_each_way(api):
    r = await api.post("/nodeflow/convert", {"workflow": editor_workflow(), "to": "api"})
    body = await r.json()
    assert r.status == 200 and body["from"] == "comfyui"
    assert body["result"]["2"]["inputs"] == {"value": ["1", 0], "label": "n="}
    r = await api.post("/api/nodeflow/convert", {"workflow": body["result"], "to": "nodeflow"})
    nodeflow = (await r.json())["result"]
    assert nodeflow["format"] == "nodeflow-workflow" and len(nodeflow["nodes"]) == 2
    r = await api.post("/nodeflow/convert", {"workflow": nodeflow, "to": "comfyui"})
    assert (await r.json())["result"]["version"] == 0.4
    png = write_png(Image.new("RGB", (2, 2)), None, {"workflow": editor_workflow()})
    r = await api.client.post("/nodeflow/convert?to=api", data=png, headers={"Content-Type": "image/png"})
    assert r.status == 200 and (await r.json())["result"]["1"]["inputs"] == {"value": 7}


async def test_convert_errors(api):
    for body in ({"workflow": [1, 2]}, {"workflow": editor_workflow(), "to": "xml"}, {"nope": 1}):
        r = await api.post("/nodeflow/convert", body)
        assert r.status == 400 and (await r.json())["error"]["message"]
    r = await api.client.post("/nodeflow/convert", data=b"\x89PNGbroken", headers={"Content-Type": "image/png"})
    assert r.status == 400


async def test_prompt_accepts_an_editor_workflow(aiohttp_client, env, registry):
    from nodeflow.engine.executor import Engine
    from nodeflow.server.app import create_app
    from nodeflow.server.config import ServerConfig
    from nodeflow.workflow.convert import to_api

    def workflow_to_prompt(workflow):
        return to_api(workflow, registry.object_info(env))

    app = create_app(ServerConfig(), registry, Engine(registry, env), env, workflow_to_prompt=workflow_to_prompt)
    client = await aiohttp_client(app)
    r = await client.post("/prompt", json={"workflow": editor_workflow()})
    assert r.status == 200
    prompt_id = (await r.json())["prompt_id"]
    import asyncio

    for _ in range(200):
        history = await (await client.get(f"/history/{prompt_id}")).json()
        if prompt_id in history:
            break
        await asyncio.sleep(0.05)
    assert history[prompt_id]["outputs"]["2"] == {"text": ["n=7"]}


async def test_convert_fills_missing_widget_values_and_says_so(aiohttp_client, env):
    """A template's LoraLoader saved with widgets_values null, through a real server."""
    from nodeflow.engine.executor import Engine
    from nodeflow.schema.registry import builtin_registry
    from nodeflow.server.app import create_app
    from nodeflow.server.config import ServerConfig
    from tests.helpers.editor_workflows import with_lora

    (env.models_dir / "loras" / "only.safetensors").write_bytes(b"x")
    registry = builtin_registry()
    client = await aiohttp_client(create_app(ServerConfig(), registry, Engine(registry, env), env))
    r = await client.post("/nodeflow/convert", json={"workflow": with_lora(None), "to": "api"})
    body = await r.json()
    assert r.status == 200, body
    assert body["result"]["10"]["inputs"]["lora_name"] == "only.safetensors"
    assert body["result"]["10"]["inputs"]["strength_clip"] == 1.0
    (warning,) = [w for w in body["warnings"] if w["node"] == "10"]
    assert "LoraLoader (node 10)" in warning["message"] and "lora_name='only.safetensors'" in warning["message"]

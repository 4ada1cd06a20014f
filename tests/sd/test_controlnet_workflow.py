"""A ComfyUI editor workflow with ControlNets (written for this test in the public format:
tests/data/workflows/controlnet_canny_t2i.json: LoadImage -> Canny -> a ControlNet and a chained
T2I-Adapter on both prompts -> KSampler) converts and runs on a real server; a ControlNet of
another family fails with an error that names the fix."""

import json
from pathlib import Path

from PIL import Image, ImageDraw

from nodeflow.engine.executor import Engine
from nodeflow.models.manager import ModelManager
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from tests.helpers.api_client import Api, receive_until

from .tiny_control import CONTROL_SDXL, write_adapter_tencentarc, write_controlnet_diffusers, write_controlnet_ldm

WORKFLOW = Path(__file__).resolve().parents[1] / "data" / "workflows" / "controlnet_canny_t2i.json"


async def start(aiohttp_client, sd_env, registry):
    models = sd_env.models_dir
    write_controlnet_ldm(models / "controlnet" / "control_tiny_canny.safetensors")
    write_controlnet_diffusers(models / "controlnet" / "xl" / "cn_sdxl", config=CONTROL_SDXL, folder=True)
    write_adapter_tencentarc(models / "t2i_adapter" / "t2iadapter_tiny_sketch.pth")  # ComfyUI's second folder
    image = Image.new("RGB", (64, 64), "black")
    ImageDraw.Draw(image).ellipse((12, 12, 52, 52), fill="white")
    image.save(sd_env.input_dir / "hint.png")
    app = create_app(ServerConfig(), registry, Engine(registry, sd_env, models=ModelManager(cpu=True)), sd_env)
    return Api(await aiohttp_client(app), sd_env)


async def converted(api) -> dict:
    r = await api.post("/nodeflow/convert", {"workflow": json.loads(WORKFLOW.read_text()), "to": "api"})
    body = await r.json()
    assert r.status == 200 and body["from"] == "comfyui", body
    return body["result"]


async def test_editor_workflow_with_controlnets_runs(aiohttp_client, sd_env, registry):
    api = await start(aiohttp_client, sd_env, registry)
    r = await api.client.get("/models/controlnet")
    assert await r.json() == [
        "control_tiny_canny.safetensors",
        "t2iadapter_tiny_sketch.pth",
        "xl/cn_sdxl/diffusion_pytorch_model.safetensors",
    ]  # no config.json
    r = await api.client.get("/object_info/ControlNetApplyAdvanced")
    info = (await r.json())["ControlNetApplyAdvanced"]
    assert list(info["input"]["required"]) == [
        "positive",
        "negative",
        "control_net",
        "image",
        "strength",
        "start_percent",
        "end_percent",
    ]
    assert list(info["input"]["optional"]) == ["vae"] and info["output_name"] == ["positive", "negative"]
    prompt = await converted(api)
    assert prompt["7"]["_meta"] == {"title": "Apply ControlNet"}  # ComfyUI's display name
    assert {k: prompt["7"][k] for k in ("class_type", "inputs")} == {
        "class_type": "ControlNetApplyAdvanced",
        "inputs": {
            "positive": ["2", 0],
            "negative": ["3", 0],
            "control_net": ["6", 0],
            "image": ["5", 0],
            "vae": ["1", 2],
            "strength": 0.9,
            "start_percent": 0.0,
            "end_percent": 0.8,
        },
    }
    assert prompt["9"]["inputs"]["positive"] == ["7", 0] and "vae" not in prompt["9"]["inputs"]
    assert prompt["5"]["inputs"] == {"image": ["4", 0], "low_threshold": 0.2, "high_threshold": 0.5}
    ws = await api.ws("cn")
    status, body = await api.queue(prompt, client_id="cn")
    assert status == 200, body
    seen = await receive_until(ws, "execution_success", prompt_id=body["prompt_id"], timeout=300)
    executed = {d["node"] for kind, d in seen if kind == "executing" and d.get("node")}
    assert {"5", "6", "7", "8", "9", "11", "13"} <= executed
    history = await api.wait_history(body["prompt_id"])
    image = history["outputs"]["13"]["images"][0]
    r = await api.client.get(f"/view?filename={image['filename']}&type=output")
    assert r.status == 200 and (await r.read())[:8] == b"\x89PNG\r\n\x1a\n"
    await ws.close()


async def test_controlnet_of_another_family_fails_naming_the_fix(aiohttp_client, sd_env, registry):
    api = await start(aiohttp_client, sd_env, registry)
    prompt = await converted(api)
    prompt["6"]["inputs"]["control_net_name"] = "xl/cn_sdxl/diffusion_pytorch_model.safetensors"
    ws = await api.ws("cn2")
    status, body = await api.queue(prompt, client_id="cn2")
    assert status == 200, body
    seen = await receive_until(ws, "execution_error", prompt_id=body["prompt_id"], timeout=300)
    error = seen[-1][1]
    assert (
        error["node_id"] == "11"
        and "made for Stable Diffusion XL models but the model is Stable Diffusion 1.x" in error["exception_message"]
    )
    await ws.close()

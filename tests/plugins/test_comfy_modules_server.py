"""Custom-node packs written against ComfyUI's own modules (folder_paths, nodes, server, comfy.utils,
comfy.model_management, node_helpers, latent_preview, execution) load unchanged in a real server
and their nodes run through POST /prompt with real results; a pack needing a symbol NodeFlow
lacks fails alone, with the symbol named."""

import json
import struct
import time
from io import BytesIO

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from .comfy_server import start_server

pytestmark = pytest.mark.slow  # a server process running ComfyUI-style packs on a tiny SD1 model


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("comfy_base"))
    yield running
    running.stop()


def text_of(outputs, node="1"):
    return json.loads(outputs[node]["text"][0])


def test_packs_load_and_a_missing_symbol_fails_only_its_pack(server):
    packs = {p["name"]: p for p in server.get("/nodeflow/plugins")}
    for name, node in [
        ("comfy_paths_pack", "ComfyPathFacts"),
        ("comfy_progress_pack", "ComfyCountdown"),
        ("comfy_sampling_pack", "ComfyPackKSampler"),
        ("comfy_server_pack", "ComfyAnnounce"),
    ]:
        assert packs[name]["ok"], packs[name]["error"]
        assert node in packs[name]["nodes"]
    assert packs["example_pack"]["ok"]
    missing = packs["comfy_missing_pack"]
    assert not missing["ok"] and "comfy.utils.surely_not_a_comfy_symbol is ComfyUI API" in missing["error"]
    attr = packs["comfy_missing_attr"]
    assert not attr["ok"] and "comfy.model_management.surely_not_a_management_function" in attr["error"]
    assert server.request("GET", "/prompt")[0] == 200


def test_folder_paths_follow_the_runtime_folders(server):
    base = server.base.resolve()
    info = server.get("/object_info/ComfyPathFacts")["ComfyPathFacts"]["input"]["required"]
    assert "tiny_sd1.safetensors" in info["ckpt_name"][0]
    assert info["pack_file"][0] == ["evil.bin", "plain.bin", "weights.safetensors"]
    assert info["width"][1]["max"] == 16384
    # the folder kinds packs added are NodeFlow's own now
    folders = set(server.get("/models"))
    assert {"pack_models", "pack_extra", "controlnet", "clip_vision"} <= folders and "custom_nodes" not in folders
    assert server.get("/models/pack_models") == ["evil.bin", "plain.bin", "weights.safetensors"]
    facts = text_of(
        server.run(
            {
                "1": {
                    "class_type": "ComfyPathFacts",
                    "inputs": {"ckpt_name": "tiny_sd1.safetensors", "pack_file": "weights.safetensors", "width": 64},
                }
            }
        )
    )
    assert facts["base_path"] == str(base) == facts["base_directory"]
    assert "tiny_sd1.safetensors" in facts["checkpoints_at_import"] and facts["legacy_unet"]
    assert facts["ckpt_path"] == str(base / "models" / "checkpoints" / "tiny_sd1.safetensors")
    assert facts["pack_path"] == str(base / "models" / "pack_models" / "weights.safetensors")
    assert facts["missing"] is None and facts["outside"] is None
    assert facts["pack_extra_first"] == str(base / "pack_extra")
    assert facts["dirs"] == [str(base / d) for d in ("input", "output", "temp", "user")]
    assert facts["annotated"] == str(base / "temp" / "pic.png") and facts["annotated_exists"] is True
    assert facts["by_type"] == str(base / "output") and facts["images"] == ["a.png", "c.webp"]
    assert facts["saved"] == ["facts", "run_64_00001_.txt", "facts/run_64"]
    assert (base / "output" / "facts" / "run_64_00001_.txt").read_text() == "saved"
    assert facts["mapped"] == {"KSampler": "sample", "pack_node": True, "display": "Path facts (folder_paths)"}


def test_progress_bar_reports_progress_and_previews(server):
    prompt = {"5": {"class_type": "ComfyCountdown", "inputs": {"steps": 3, "delay": 0.0, "mode": "bar"}}}
    prompt_id, seen = server.events(prompt)
    progress = [d for kind, t, d in seen if kind == "json" and t == "progress"]
    assert [(p["value"], p["max"], p["node"], p["prompt_id"]) for p in progress] == [
        (v, 3, "5", prompt_id) for v in (1, 2, 3)
    ]
    previews = [payload for kind, event, payload in seen if kind == "binary" and event == 1]
    assert len(previews) == 1 and struct.unpack(">I", previews[0][:4])[0] == 1  # JPEG
    picture = Image.open(BytesIO(previews[0][4:]))
    assert picture.size == (16, 16) and picture.getpixel((8, 8))[1] > 150


@pytest.mark.parametrize(
    "mode, how", [("throw", "/interrupt"), ("bar", "/interrupt"), ("throw", "/comfy_server_pack/stop")]
)
def test_interrupts_reach_pack_loops(server, mode, how):
    (server.base / "temp" / f"interrupted_{mode}.txt").unlink(missing_ok=True)
    prompt_id = server.queue(
        {"1": {"class_type": "ComfyCountdown", "inputs": {"steps": 10000, "delay": 0.01, "mode": mode}}}
    )
    end = time.time() + 60
    while [q[1] for q in server.get("/queue")["queue_running"]] != [prompt_id]:
        assert time.time() < end
        time.sleep(0.05)
    time.sleep(0.3)
    assert server.request("POST", how, {})[0] == 200
    entry = server.wait_history(prompt_id)
    assert [m[0] for m in entry["status"]["messages"]][-1] == "execution_interrupted"
    assert (server.base / "temp" / f"interrupted_{mode}.txt").exists()  # the pack saw InterruptProcessingException


def picture_tensor(server):
    picture = np.asarray(Image.open(server.base / "input" / "pic.png").convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(picture).permute(2, 0, 1)[None]


def saved_pixels(server, outputs, node):
    return np.asarray(server.output_image(outputs[node]["images"][0]), dtype=np.float32) / 255


@pytest.mark.parametrize("method", ["bilinear", "tiled"])
def test_resizing_helpers_give_exact_results(server, method):
    outputs = server.run(
        {
            "1": {"class_type": "ComfyLoadInputPicture", "inputs": {"name": "pic.png"}},
            "2": {
                "class_type": "ComfyImageOps",
                "inputs": {"image": ["1", 0], "width": 32, "height": 32, "method": method},
            },
            "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": f"ops_{method}"}},
        }
    )
    source = picture_tensor(server)
    if method == "tiled":
        expected = F.interpolate(source, scale_factor=2, mode="nearest")
    else:  # centre crop 48x40 -> 40x40, then bilinear
        expected = F.interpolate(source[..., 4:44], size=(32, 32), mode="bilinear")
    expected = expected[0].permute(1, 2, 0).numpy()
    assert np.abs(saved_pixels(server, outputs, "3") - expected).max() <= 0.5 / 255 + 1e-6


def test_state_dict_files_load_safely(server):
    def facts(name):
        return text_of(server.run({"1": {"class_type": "ComfyStateDictFacts", "inputs": {"pack_file": name}}}))

    safe = facts("weights.safetensors")
    assert safe["sums"] == {"layer.weight": 12.0, "layer.bias": 3.0}
    assert safe["metadata"] == {"format": "pt", "note": "hello"}
    assert safe["copy"] == {"keys": ["block.bias", "block.weight"], "metadata": {"by": "pack"}}
    plain = facts("plain.bin")
    assert plain["sums"] == {"layer.weight": 2.0} and plain["metadata"] is None
    assert "weights_only" in facts("evil.bin")["refused"]
    assert "unsafe pickle executed" not in server.log()


def test_model_management_answers_for_the_runtime(server):
    facts = text_of(server.run({"1": {"class_type": "ComfyDeviceFacts", "inputs": {}}}))
    assert facts == {
        "device": "cpu",
        "at_import": "cpu",
        "intermediate": "cpu",
        "offload": "cpu",
        "unet_dtype": "torch.float32",
        "vae_dtype": "torch.float32",
        "free": True,
        "mps": False,
        "xformers": False,
        "interrupted": False,
        "cast": "torch.float32",
        "fp16_size": 2,
        "oom_is_exception": True,
        "has_no_such": False,
    }


def builtin_pipeline(sampler_class="KSampler"):
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_sd1.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a red square"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": ""}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {
            "class_type": sampler_class,
            "inputs": {
                "model": ["1", 0],
                "seed": 5,
                "steps": 2,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": sampler_class}},
    }


def test_core_nodes_called_from_a_pack_match_the_builtin_pipeline(server):
    prompt = {
        "9": {
            "class_type": "ComfyTinyGenerate",
            "inputs": {"ckpt_name": "tiny_sd1.safetensors", "text": "a red square", "seed": 5, "steps": 2},
        }
    }
    prompt_id, seen = server.events(prompt)
    entry = server.wait_history(prompt_id)
    assert entry["status"]["status_str"] == "success", entry["status"]["messages"]
    saved = entry["outputs"]["9"]["images"]
    assert saved[0]["filename"].startswith("comfy_pack_") and saved[0]["type"] == "output"
    from_pack = saved_pixels(server, entry["outputs"], "9")
    progress = [d for kind, t, d in seen if kind == "json" and t == "progress" and d["node"] == "9"]
    assert [(p["value"], p["max"]) for p in progress] == [(1, 2), (2, 2)]  # common_ksampler's callback
    assert any(kind == "binary" and event == 1 for kind, event, _ in seen)  # its latent previews
    builtin = saved_pixels(server, server.run(builtin_pipeline()), "7")
    subclass = saved_pixels(server, server.run(builtin_pipeline("ComfyPackKSampler")), "7")
    assert from_pack.shape == (64, 64, 3) and from_pack.std() > 0
    assert np.array_equal(from_pack, builtin) and np.array_equal(subclass, builtin)


def test_prompt_server_routes_are_mounted(server):
    for prefix in ("", "/api"):
        assert server.get(f"{prefix}/comfy_server_pack/hello") == {
            "hello": "world",
            "supports": ["custom_nodes_from_web"],
        }
    status, body = server.request("GET", "/comfy_server_pack/direct", raw=True)
    assert status == 200 and body == b"direct route"
    assert "exec_info" in server.get("/prompt")  # the pack's clashing GET /prompt did not replace it
    good = {"1": {"class_type": "ComfyCountdown", "inputs": {"steps": 1, "delay": 0.0, "mode": "bar"}}}
    status, answer = server.request("POST", "/comfy_server_pack/validate", {"prompt": good})
    assert status == 200 and answer["valid"] and answer["outputs"] == ["1"] and answer["error"] is None
    assert answer["type_name"] == "aiohttp.web_request.Request"
    bad = {"1": {"class_type": "ComfyCountdown", "inputs": {"steps": 0, "delay": 0.0, "mode": "bar"}}}
    answer = server.request("POST", "/comfy_server_pack/validate", {"prompt": bad})[1]
    assert not answer["valid"] and answer["node_errors"]["1"]["errors"][0]["type"] == "value_smaller_than_min"


def test_send_sync_reaches_the_websocket(server):
    _prompt_id, seen = server.events(
        {"3": {"class_type": "ComfyAnnounce", "inputs": {"text": "hey"}}}, client_id="listener"
    )
    messages = [d for kind, t, d in seen if kind == "json" and t == "comfy_server_pack.message"]
    assert messages == [{"text": "hey", "client": "listener", "node": "3"}]
    texts = [payload for kind, event, payload in seen if kind == "binary" and event == 3]
    assert texts == [struct.pack(">I", 1) + b"3" + b"streamed hey"]
    previews = [payload for kind, event, payload in seen if kind == "binary" and event == 1]
    assert len(previews) == 1 and struct.unpack(">I", previews[0][:4])[0] == 2  # PNG
    picture = Image.open(BytesIO(previews[0][4:]))
    assert picture.size == (8, 8) and picture.convert("RGB").getpixel((4, 4)) == (255, 0, 0)

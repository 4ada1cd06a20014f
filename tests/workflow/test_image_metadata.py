"""Workflows in PNG and WebP metadata, and A1111 parameters."""

import io

import pytest
from PIL import Image, PngImagePlugin

from nodeflow.workflow.a1111 import parameters_to_prompt, parse_parameters
from nodeflow.workflow.errors import WorkflowError
from nodeflow.workflow.image_metadata import read_image_metadata, workflow_from_image, write_png, write_webp
from tests.helpers.editor_workflows import OBJECT_INFO, image_chain

PROMPT = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}


def test_png_round_trip():
    data = write_png(Image.new("RGB", (4, 4)), PROMPT, {"workflow": image_chain()})
    meta = read_image_metadata(data)
    assert meta["prompt"] == PROMPT and meta["workflow"] == image_chain()
    workflow, _ = workflow_from_image(data, OBJECT_INFO)
    assert {n["type"] for n in workflow["nodes"]} == {"EmptyImage", "ImageInvert", "ImageScaleBy", "SaveImage"}


def test_webp_round_trip_the_comfyui_way():
    data = write_webp(Image.new("RGB", (4, 4)), PROMPT, {"workflow": image_chain()})
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert exif[0x0110].startswith("prompt:") and exif[0x010F].startswith("workflow:")
    meta = read_image_metadata(data)
    assert meta["prompt"] == PROMPT and meta["workflow"] == image_chain()


def test_prompt_only_png_and_no_metadata():
    workflow, _ = workflow_from_image(write_png(Image.new("RGB", (4, 4)), PROMPT, None), OBJECT_INFO)
    assert workflow["nodes"][0]["type"] == "EmptyImage"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    with pytest.raises(WorkflowError, match="no workflow"):
        workflow_from_image(buf.getvalue(), OBJECT_INFO)
    with pytest.raises(WorkflowError):
        read_image_metadata(b"not an image")
    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", "{broken")
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG", pnginfo=info)
    with pytest.raises(WorkflowError, match="not valid JSON"):
        read_image_metadata(buf.getvalue())


A1111 = [
    (
        "a cat in a hat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x768, "
        "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.6.0",
        {"seed": 42, "steps": 20, "cfg": 7.0, "sampler_name": "euler_ancestral", "scheduler": "normal"},
        (512, 768),
        "v1-5-pruned-emaonly.safetensors",
        "a cat in a hat",
        "blurry",
    ),
    (
        "portrait, (masterpiece:1.2),\nsoft light\nNegative prompt: lowres, bad anatomy\nSteps: 32, Sampler: DPM++ 2M Karras, "
        'CFG scale: 5.5, Seed: 3141592, Size: 832x1216, Model: sdxl_base.safetensors, Lora hashes: "a: 1, b: 2"',
        {"seed": 3141592, "steps": 32, "cfg": 5.5, "sampler_name": "dpmpp_2m", "scheduler": "karras"},
        (832, 1216),
        "sdxl_base.safetensors",
        "portrait, (masterpiece:1.2),\nsoft light",
        "lowres, bad anatomy",
    ),
    (
        "landscape\nSteps: 25, Sampler: DPM++ SDE, Schedule type: Exponential, CFG scale: 4, Seed: 7, Size: 640x640, Model: dream",
        {"seed": 7, "steps": 25, "cfg": 4.0, "sampler_name": "dpmpp_sde", "scheduler": "exponential"},
        (640, 640),
        "dream.safetensors",
        "landscape",
        "",
    ),
]


@pytest.mark.parametrize("text, sampler, size, model, positive, negative", A1111)
def test_a1111_parameters_build_a_txt2img_workflow(text, sampler, size, model, positive, negative):
    prompt = parameters_to_prompt(parse_parameters(text))
    assert {k: v for k, v in prompt["3"]["inputs"].items() if k in sampler} == sampler
    assert (prompt["5"]["inputs"]["width"], prompt["5"]["inputs"]["height"]) == size
    assert prompt["4"]["inputs"]["ckpt_name"] == model
    assert prompt["6"]["inputs"]["text"] == positive and prompt["7"]["inputs"]["text"] == negative
    png = write_png(Image.new("RGB", (4, 4)), None, None)
    img = Image.open(io.BytesIO(png))
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    workflow, _ = workflow_from_image(buf.getvalue(), OBJECT_INFO)
    assert {n["type"] for n in workflow["nodes"]} >= {"KSampler", "CheckpointLoaderSimple", "SaveImage"}

"""SD3.5 and Flux.1 through POST /prompt on a real server, from tiny files in the released layouts:
txt2img and img2img, the loaders (CheckpointLoaderSimple, UNETLoader with fp8, TripleCLIPLoader,
DualCLIPLoader, VAELoader), the SD3 negative as ComfyUI's template builds it, FluxGuidance at CFG 1."""

import numpy as np
from PIL import Image

from tests.helpers.flow_prompts import flux_prompt, run, sd3_prompt


async def test_sd35_txt2img_and_img2img(api):
    a = await run(api, sd3_prompt(seed=1))
    b = await run(api, sd3_prompt(seed=2))
    assert a.shape == (64, 64, 3) and np.abs(a - b).mean() > 0.5  # the seed matters
    # the same file with its text encoders inside
    c = await run(api, sd3_prompt("sd35_medium_incl_clips.safetensors", clip_from_checkpoint=True, seed=1))
    assert c.shape == (64, 64, 3)
    Image.fromarray(a.astype(np.uint8)).save(api.env.input_dir / "start.png")
    d = await run(api, sd3_prompt(seed=1, denoise=0.5, image="start.png"))
    assert d.shape == (64, 64, 3) and np.abs(d - a).mean() > 0.0


async def test_flux_txt2img_img2img_fp8_and_guidance(api):
    a = await run(api, flux_prompt(seed=1))
    assert a.shape == (64, 64, 3)
    g = await run(api, flux_prompt(seed=1, guidance=8.0))
    assert np.abs(g - a).mean() > 0.0  # the distilled guidance reaches the network
    fp8 = await run(api, flux_prompt(seed=1, weight_dtype="fp8_e4m3fn"))
    assert fp8.shape == a.shape and np.abs(fp8 - a).mean() < 20  # fp8 storage, close to the full-precision result
    s = await run(api, flux_prompt("flux1-schnell.safetensors", seed=1))
    assert s.shape == (64, 64, 3)
    Image.fromarray(a.astype(np.uint8)).save(api.env.input_dir / "flux_start.png")
    i = await run(api, flux_prompt(seed=4, denoise=0.6, image="flux_start.png"))
    assert i.shape == (64, 64, 3)


async def test_wrong_text_encoder_is_a_clear_error(api):
    p = flux_prompt()
    p["2"]["inputs"]["clip_name2"] = "clip_g.safetensors"
    status, body = await api.queue(p)
    assert status == 200
    history = await api.wait_history(body["prompt_id"], timeout=300)
    messages = [m for m in history["status"]["messages"] if m[0] == "execution_error"]
    assert messages and "clip_g" in messages[0][1]["exception_message"]

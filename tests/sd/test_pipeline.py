"""txt2img / img2img / hires-fix style runs through the real engine on a tiny SD1 checkpoint."""

import threading

import pytest
import torch

from tests.helpers.engine_results import latent_of
from tests.helpers.sd_prompts import txt2img


def test_txt2img_runs_and_reports_progress_with_previews(run_prompt, sd_env):
    result, events = run_prompt(txt2img(steps=3, save="SaveImage"))
    assert result.status == "success", result.error
    image = sd_env.output_dir / result.outputs["7"]["images"][0]["filename"]
    assert image.is_file()
    progress = [d for t, d in events if t == "progress" and d["node"] == "5"]
    assert [p["value"] for p in progress] == [1, 2, 3] and progress[0]["max"] == 3
    previews = [d for t, d in events if t == "preview" and d["node"] == "5"]
    assert len(previews) == 3 and previews[0]["image"][:2] == b"\xff\xd8"  # JPEG frames


def test_no_previews_are_made_while_nobody_receives_them(engine, sd_env, monkeypatch):
    """A job whose previews reach nobody (the server: no editor connected) reports progress but
    never makes a preview picture; when someone connects mid-run, previews start."""
    from nodeflow.engine.job import Job
    from nodeflow.nodes import sampling_nodes

    made = []
    real = sampling_nodes.latent_preview
    monkeypatch.setattr(sampling_nodes, "latent_preview", lambda *a: made.append(1) or real(*a))
    watching = []
    events = []

    def emit(kind, data):
        events.append((kind, data))
        if kind == "progress" and data["value"] == 2:
            watching.append(True)  # an editor connects as the second step reports

    prompt = txt2img(steps=4, seed=21)
    outputs = [nid for nid, n in prompt.items() if engine.registry.get(n["class_type"]).output_node]
    job = Job("p-nobody", prompt, outputs, previews_wanted=lambda: bool(watching))
    result = engine.execute(job, emit, threading.Event())
    assert result.status == "success", result.error
    assert [d["value"] for t, d in events if t == "progress" and d["node"] == "5"] == [1, 2, 3, 4]
    assert len(made) == 3 and len([1 for t, d in events if t == "preview"]) == 3  # steps 2, 3 and 4


def test_same_seed_same_latents_and_other_seed_differs(run_prompt, sd_env, engine):
    first = latent_of(sd_env, run_prompt(txt2img(seed=7))[0])
    engine.free(unload_models=False, free_memory=True)  # drop the output cache, keep the model
    second = latent_of(sd_env, run_prompt(txt2img(seed=7))[0])
    third = latent_of(sd_env, run_prompt(txt2img(seed=8))[0])
    assert torch.equal(first, second)
    assert not torch.allclose(first, third)


def test_batch_item_zero_equals_batch_of_one(run_prompt, sd_env):
    one = latent_of(sd_env, run_prompt(txt2img(seed=3, batch=1))[0])
    two = latent_of(sd_env, run_prompt(txt2img(seed=3, batch=2))[0])
    assert two.shape[0] == 2
    assert torch.allclose(one[0], two[0], rtol=1e-3, atol=1e-3)  # same noise; conv numerics vary with batch size
    assert not torch.allclose(two[0], two[1])


def test_latent_from_batch_keeps_its_noise(run_prompt, sd_env):
    prompt = txt2img(seed=5, batch=3)
    full = latent_of(sd_env, run_prompt(prompt)[0])
    prompt["8"] = {"class_type": "LatentFromBatch", "inputs": {"samples": ["4", 0], "batch_index": 2, "length": 1}}
    prompt["5"]["inputs"]["latent_image"] = ["8", 0]
    picked = latent_of(sd_env, run_prompt(prompt)[0])
    assert torch.allclose(picked[0], full[2], rtol=1e-3, atol=1e-3)  # same noise; conv numerics vary with batch size


@pytest.mark.parametrize(
    "sampler,scheduler",
    [
        ("euler_ancestral", "karras"),
        ("dpmpp_2m", "exponential"),
        ("uni_pc", "sgm_uniform"),
        ("ddim", "ddim_uniform"),
        ("lcm", "simple"),
        ("dpmpp_2m_sde", "beta"),
    ],
)
def test_samplers_and_schedulers_run_deterministically(run_prompt, sd_env, engine, sampler, scheduler):
    a = latent_of(sd_env, run_prompt(txt2img(sampler=sampler, scheduler=scheduler))[0])
    engine.free(unload_models=False, free_memory=True)
    b = latent_of(sd_env, run_prompt(txt2img(sampler=sampler, scheduler=scheduler))[0])
    assert torch.isfinite(a).all() and torch.equal(a, b)


def test_advanced_two_pass_equals_one_pass(run_prompt, sd_env):
    """Base pass with leftover noise + second pass without new noise == one KSampler run."""
    single = latent_of(sd_env, run_prompt(txt2img(seed=11, steps=4))[0])
    prompt = txt2img(seed=11, steps=4)
    common = {
        "model": ["1", 0],
        "cfg": 5.0,
        "sampler_name": "euler",
        "scheduler": "normal",
        "positive": ["2", 0],
        "negative": ["3", 0],
        "steps": 4,
        "noise_seed": 11,
    }
    prompt["5"] = {
        "class_type": "KSamplerAdvanced",
        "inputs": {
            **common,
            "add_noise": "enable",
            "latent_image": ["4", 0],
            "start_at_step": 0,
            "end_at_step": 2,
            "return_with_leftover_noise": "enable",
        },
    }
    prompt["9"] = {
        "class_type": "KSamplerAdvanced",
        "inputs": {
            **common,
            "add_noise": "disable",
            "latent_image": ["5", 0],
            "start_at_step": 2,
            "end_at_step": 10000,
            "return_with_leftover_noise": "disable",
        },
    }
    prompt["6"]["inputs"]["samples"] = ["9", 0]
    two_pass = latent_of(sd_env, run_prompt(prompt)[0])
    assert torch.allclose(single, two_pass, atol=1e-4)


def test_sampler_custom_matches_ksampler(run_prompt, sd_env):
    single = latent_of(sd_env, run_prompt(txt2img(seed=2, steps=3))[0])
    prompt = txt2img(seed=2, steps=3)
    prompt["10"] = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}}
    prompt["11"] = {
        "class_type": "BasicScheduler",
        "inputs": {"model": ["1", 0], "scheduler": "normal", "steps": 3, "denoise": 1.0},
    }
    prompt["5"] = {
        "class_type": "SamplerCustom",
        "inputs": {
            "model": ["1", 0],
            "add_noise": True,
            "noise_seed": 2,
            "cfg": 5.0,
            "positive": ["2", 0],
            "negative": ["3", 0],
            "sampler": ["10", 0],
            "sigmas": ["11", 0],
            "latent_image": ["4", 0],
        },
    }
    custom = latent_of(sd_env, run_prompt(prompt)[0])
    assert torch.allclose(single, custom, atol=1e-5)


def test_img2img_and_hires_fix(run_prompt, sd_env):
    prompt = txt2img(seed=4, steps=2, save="SaveImage")
    prompt["12"] = {
        "class_type": "LatentUpscaleBy",
        "inputs": {"samples": ["5", 0], "upscale_method": "bislerp", "scale_by": 1.5},
    }
    prompt["13"] = {
        "class_type": "KSampler",
        "inputs": {
            "model": ["1", 0],
            "seed": 4,
            "steps": 2,
            "cfg": 5.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["12", 0],
            "denoise": 0.5,
        },
    }
    prompt["6"]["inputs"]["samples"] = ["13", 0]
    result, events = run_prompt(prompt)
    assert result.status == "success", result.error
    from PIL import Image

    with Image.open(sd_env.output_dir / result.outputs["7"]["images"][0]["filename"]) as img:
        assert img.size == (96, 96)  # 64 * 1.5, through an 12x12 latent
    # denoise 0.5 of 2 steps runs the last 2 of a 4-step schedule
    assert [d["value"] for t, d in events if t == "progress" and d["node"] == "13"] == [1, 2]


def test_noise_mask_keeps_unmasked_latent(run_prompt, sd_env):
    """SetLatentNoiseMask: outside the mask the latent comes back exactly as it went in."""
    from PIL import Image

    picture = Image.new("RGB", (64, 64), "black")
    picture.paste((255, 255, 255), (0, 0, 32, 64))  # left half is the area to change
    picture.save(sd_env.input_dir / "half.png")
    prompt = txt2img(seed=9, steps=3)
    prompt["22"] = {"class_type": "LoadImageMask", "inputs": {"image": "half.png", "channel": "red"}}
    prompt["23"] = {"class_type": "SetLatentNoiseMask", "inputs": {"samples": ["4", 0], "mask": ["22", 0]}}
    prompt["5"]["inputs"]["latent_image"] = ["23", 0]
    out = latent_of(sd_env, run_prompt(prompt)[0])
    assert torch.equal(out[..., 4:], torch.zeros_like(out[..., 4:]))  # right half untouched (it was zeros)
    assert out[..., :4].abs().mean() > 0.05


def test_interrupt_stops_within_a_step(run_prompt):
    interrupt = threading.Event()

    def stop_at_first_progress(kind, data):
        if kind == "progress" and data["node"] == "5":
            interrupt.set()

    result, events = run_prompt(txt2img(steps=20), interrupt=interrupt, on_event=stop_at_first_progress)
    assert result.status == "interrupted"
    steps = [d["value"] for t, d in events if t == "progress" and d["node"] == "5"]
    assert steps == [1]  # the interrupt took effect at the next step boundary


def test_unknown_checkpoint_is_a_validation_error(registry, sd_env):
    from nodeflow.graph.validate import validate_prompt

    prompt = txt2img()
    prompt["1"]["inputs"]["ckpt_name"] = "missing.safetensors"
    check = validate_prompt(registry, sd_env, prompt)
    assert not check.ok
    errors = check.node_errors["1"]["errors"]
    assert errors[0]["type"] == "value_not_in_list" and "tiny.safetensors" in errors[0]["message"]


def test_noise_is_one_cpu_randn_after_manual_seed():
    """The compat rule: torch.manual_seed(seed), then one torch.randn over the whole batch."""
    from nodeflow.sampling.run import prepare_noise

    latent = torch.zeros(3, 4, 8, 8)
    torch.manual_seed(1234)
    expected = torch.randn(latent.shape, dtype=torch.float32, device="cpu")
    assert torch.equal(prepare_noise(latent, 1234), expected)
    assert torch.equal(prepare_noise(latent[:1], 1234, batch_index=[2]), expected[2:3])

import os
import threading

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.manager import ModelManager
from nodeflow.schema.registry import builtin_registry

from .tiny import write_tiny_sd1


@pytest.fixture(scope="session")
def tiny_ckpt_file(tmp_path_factory):
    return write_tiny_sd1(tmp_path_factory.mktemp("ckpt") / "tiny_sd1.safetensors")


@pytest.fixture
def sd_env(env, tiny_ckpt_file):
    """A base folder whose models/checkpoints holds the tiny SD1 file."""
    os.link(tiny_ckpt_file, env.models_dir / "checkpoints" / "tiny.safetensors")  # symlinks: test_symlinked_models
    return env


@pytest.fixture(scope="session")
def registry():
    return builtin_registry()


@pytest.fixture
def engine(registry, sd_env):
    return Engine(registry, sd_env, models=ModelManager(cpu=True))


@pytest.fixture
def run_prompt(engine):
    """run_prompt(prompt, interrupt=None) -> (JobResult, events)."""

    def run(prompt, interrupt=None, prompt_id="p1", on_event=None):
        events = []

        def emit(kind, data):
            events.append((kind, data))
            if on_event is not None:
                on_event(kind, data)

        outs = [nid for nid, n in prompt.items() if engine.registry.get(n["class_type"]).output_node]
        result = engine.execute(
            Job(prompt_id=prompt_id, prompt=prompt, outputs_to_execute=outs), emit, interrupt or threading.Event()
        )
        return result, events

    return run


def txt2img(
    seed=1,
    steps=3,
    sampler="euler",
    scheduler="normal",
    batch=1,
    denoise=1.0,
    cfg=5.0,
    width=64,
    text="a red star",
    save="SaveLatent",
):
    """A classic txt2img API prompt on the tiny checkpoint (ends in SaveLatent or SaveImage)."""
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": 64, "batch_size": batch}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": seed,
                "steps": steps,
                "cfg": cfg,
                "sampler_name": sampler,
                "scheduler": scheduler,
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": denoise,
            },
        },
    }
    if save == "SaveImage":
        prompt["6"] = {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}}
        prompt["7"] = {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "t"}}
    else:
        prompt["6"] = {"class_type": "SaveLatent", "inputs": {"samples": ["5", 0], "filename_prefix": "lat/t"}}
    return prompt

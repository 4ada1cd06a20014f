"""SD3 and Flux diffusers folders (transformer/, vae/, text_encoder*/) through DiffusersLoader on the
engine: the family is read from transformer/config.json and a txt2img prompt runs."""

import json
import threading

import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.component_files import unet_from_state
from nodeflow.models.loader import vae_from_state
from nodeflow.models.manager import ModelManager
from nodeflow.models.text_towers import clip_from_files

from .tiny_flow import flux_state, text_encoder_state, vae_state


def _library(module):
    """The diffusers / transformers class of one of NodeFlow's own networks (nets/), with its weights:
    what a diffusers folder holds."""
    if hasattr(module, "save_pretrained"):
        return module
    if hasattr(module, "encoder") and hasattr(module, "decoder"):  # nets.vae.KLAutoencoder
        from diffusers import AutoencoderKL

        library = AutoencoderKL(**dict(module.config))
    else:  # nets.clip_text
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

        cls = CLIPTextModelWithProjection if hasattr(module, "text_projection") else CLIPTextModel
        library = cls(CLIPTextConfig(**module.config.to_dict()))
    library.load_state_dict(module.state_dict())
    return library


def write_folder(root, name: str, pipeline: str, model, clip, vae):
    folder = root / name
    model.unet.module.save_pretrained(folder / "transformer")
    _library(vae.module).save_pretrained(folder / "vae")
    for enc, sub in zip(clip.encoders, ("text_encoder", "text_encoder_2", "text_encoder_3"), strict=False):
        _library(enc.model.module).save_pretrained(folder / sub)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    return folder


@pytest.mark.slow  # 6 s of CPU: a Flux run from a diffusers folder
def test_flux_diffusers_folder_runs(env, registry):
    model = unet_from_state(flux_state())
    clip = clip_from_files([(k, text_encoder_state(k)) for k in ("clip_l", "t5xxl")], "flux")
    vae = vae_from_state(vae_state())
    write_folder(env.models_dir / "diffusers", "tiny-flux", "FluxPipeline", model, clip, vae)
    prompt = {
        "1": {"class_type": "DiffusersLoader", "inputs": {"model_path": "tiny-flux"}},
        "2": {
            "class_type": "CLIPTextEncodeFlux",
            "inputs": {"clip": ["1", 1], "clip_l": "a star", "t5xxl": "a star", "guidance": 3.5},
        },
        "3": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "4": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": 1,
                "steps": 2,
                "cfg": 1.0,
                "sampler_name": "euler",
                "scheduler": "simple",
                "positive": ["2", 0],
                "negative": ["2", 0],
                "latent_image": ["3", 0],
                "denoise": 1.0,
            },
        },
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "df"}},
    }
    events = []
    engine = Engine(registry, env, models=ModelManager(cpu=True))
    engine.execute(
        Job(prompt_id="p", prompt=prompt, outputs_to_execute=["6"]),
        lambda k, d: events.append((k, d)),
        threading.Event(),
    )
    errors = [d for k, d in events if k == "execution_error"]
    assert not errors, errors[0]["exception_message"]
    assert any(k == "executed" and d["node"] == "6" for k, d in events)
    from nodeflow.models.diffusers_folder import load_diffusers_folder

    loaded, _, _ = load_diffusers_folder(env.models_dir / "diffusers" / "tiny-flux")
    assert loaded.family.name == "flux"
    a = dict(loaded.unet.module.state_dict())
    b = dict(model.unet.module.state_dict())
    assert all(torch.equal(a[k], b[k]) for k in b)

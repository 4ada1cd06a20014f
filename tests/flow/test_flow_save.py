"""CheckpointSave for SD3.5 and Flux.1: the transformer renamed back by the family's own rename table
(inverted, convert_rules.invert_rules), the VAE in the original layout, the text towers in
transformers' names under ``text_encoders.*``, as the released all-in-one files lay them out.

Tiny models: saved through the real CheckpointSave node, loaded back through CheckpointLoaderSimple
(and UNETLoader for the Flux transformer): every weight, the networks' outputs and the images bit for
bit. Full-size key lists: released names -> network (meta device) ->
released names gives the manifest's names and shapes exactly."""

import os
import threading

import numpy as np
import pytest
import torch

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.checkpoint_file import load_state_dict
from nodeflow.models.component_files import load_unet_file
from nodeflow.models.detect import detect_checkpoint
from nodeflow.models.loader import load_checkpoint, load_vae_file
from nodeflow.models.manager import ModelManager
from nodeflow.models.text_towers import clip_from_files, released_tower_state, tower_from_state
from tests.flow.test_full_size import meta_state
from tests.flow.tiny_flow import manifest
from tests.helpers.flow_prompts import flux_prompt, sd3_prompt


def execute(engine, prompt, outputs=("8",)):
    seen = {}

    def emit(event, data):
        if event == "executed":
            seen[data["node"]] = data["output"]

    result = engine.execute(Job(f"p{id(prompt)}", prompt, list(outputs)), emit, threading.Event())
    assert result.status == "success", result.error
    return seen


def image(engine, env, prompt):
    from PIL import Image

    prompt = {**prompt, "8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}}
    out = execute(engine, prompt)["8"]["images"][0]
    return np.asarray(Image.open(env.temp_dir / out.get("subfolder", "") / out["filename"]))


def save(engine, env, nodes, model, clip, vae, name):
    prompt = {
        **nodes,
        "90": {
            "class_type": "CheckpointSave",
            "inputs": {"model": model, "clip": clip, "vae": vae, "filename_prefix": f"checkpoints/{name}"},
        },
    }
    record = execute(engine, prompt, ("90",))["90"]["checkpoints"][0]
    path = env.output_dir / record.get("subfolder", "") / record["filename"]
    assert path.is_file()
    return path


@pytest.fixture
def engine(registry, flow_env):
    return Engine(registry, flow_env, models=ModelManager(cpu=True))


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert set(sa) == set(sb)
    differ = [k for k in sa if not torch.equal(sa[k], sb[k]) or sa[k].dtype != sb[k].dtype]
    assert not differ, differ[:5]


def same_output(a: torch.nn.Module, b: torch.nn.Module, forward) -> None:
    """The two networks give the same output bit for bit."""
    assert torch.equal(forward(a), forward(b))


def same_image(x: np.ndarray, y: np.ndarray) -> None:
    """Images from the two files: bit for bit (the loader reads tensors into fresh storage, so the
    alignment of a tensor in the file does not reach the kernels)."""
    assert x.shape == y.shape
    assert np.array_equal(x, y), int(np.abs(x.astype(int) - y).max())


def flux_forward(module):
    g = torch.Generator().manual_seed(0)
    cfg = module.config
    return module(
        hidden_states=torch.randn(1, 16, cfg.in_channels, generator=g),
        encoder_hidden_states=torch.randn(1, 8, cfg.joint_attention_dim, generator=g),
        pooled_projections=torch.randn(1, cfg.pooled_projection_dim, generator=g),
        timestep=torch.tensor([0.5]),
        img_ids=torch.zeros(16, 3),
        txt_ids=torch.zeros(8, 3),
        guidance=torch.tensor([3.5]) if cfg.guidance_embeds else None,
        return_dict=False,
    )[0]


def mmdit_forward(module):
    g = torch.Generator().manual_seed(0)
    cfg = module.config
    return module(
        hidden_states=torch.randn(1, cfg.in_channels, 8, 8, generator=g),
        encoder_hidden_states=torch.randn(1, 8, cfg.joint_attention_dim, generator=g),
        pooled_projections=torch.randn(1, cfg.pooled_projection_dim, generator=g),
        timestep=torch.tensor([500.0]),
        return_dict=False,
    )[0]


def test_sd35_checkpoint_saves_and_loads_back_identically(engine, flow_env):
    from safetensors import safe_open

    released_path = flow_env.models_dir / "checkpoints/sd35_medium_incl_clips.safetensors"
    original = image(engine, flow_env, sd3_prompt("sd35_medium_incl_clips.safetensors", clip_from_checkpoint=True))
    nodes = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd35_medium_incl_clips.safetensors"}}
    }
    path = save(engine, flow_env, nodes, ["1", 0], ["1", 1], ["1", 2], "sd35_saved")
    with safe_open(str(path), "pt") as f:
        saved = set(f.keys())
    with safe_open(str(released_path), "pt") as f:
        released = set(f.keys())
    extra = saved - released
    # the released layout, plus the CLIP-L projection ComfyUI's all-in-one files carry (identity here)
    assert extra <= {"text_encoders.clip_l.transformer.text_projection.weight"}, sorted(extra)[:5]
    assert released - saved == set(), sorted(released - saved)[:5]

    model, clip, vae = load_checkpoint(released_path)  # what CheckpointLoaderSimple runs
    model2, clip2, vae2 = load_checkpoint(path)
    assert model2.family is model.family
    same_weights(model.unet.module, model2.unet.module)
    same_weights(vae.module, vae2.module)
    assert [e.name for e in clip2.encoders] == ["clip_l", "clip_g", "t5xxl"]
    for enc, enc2 in zip(clip.encoders, clip2.encoders, strict=True):
        same_weights(enc.model.module, enc2.model.module)
    same_output(model.unet.module, model2.unet.module, mmdit_forward)

    os.link(path, flow_env.models_dir / "checkpoints/sd35_saved.safetensors")
    same_image(image(engine, flow_env, sd3_prompt("sd35_saved.safetensors", clip_from_checkpoint=True)), original)


def test_flux_saves_as_an_all_in_one_file_that_loads_back_identically(engine, flow_env):
    prompt = flux_prompt(seed=2)
    original = image(engine, flow_env, prompt)
    nodes = {k: prompt[k] for k in ("1", "2", "9")}
    path = save(engine, flow_env, nodes, ["1", 0], ["2", 0], ["9", 0], "flux_saved")
    os.link(path, flow_env.models_dir / "checkpoints/flux_saved.safetensors")
    os.link(path, flow_env.models_dir / "unet/flux_saved.safetensors")

    unet = load_unet_file(flow_env.models_dir / "unet/flux1-dev.safetensors")  # what UNETLoader runs
    again = load_unet_file(path)
    model, clip, vae = load_checkpoint(path)  # what CheckpointLoaderSimple runs
    assert again.family.name == model.family.name == unet.family.name == "flux"
    same_weights(unet.unet.module, again.unet.module)
    same_weights(unet.unet.module, model.unet.module)
    same_weights(load_vae_file(flow_env.models_dir / "vae/ae.safetensors").module, vae.module)
    towers = clip_from_files(
        [
            (n, load_state_dict(flow_env.models_dir / "text_encoders" / n))
            for n in ("clip_l.safetensors", "t5xxl_fp16.safetensors")
        ],
        "flux",
    )
    for enc, enc2 in zip(towers.encoders, clip.encoders, strict=True):
        same_weights(enc.model.module, enc2.model.module)
    same_output(unet.unet.module, again.unet.module, flux_forward)

    # the transformer alone through UNETLoader, the text encoders and VAE from their own files
    same_image(image(engine, flow_env, flux_prompt("flux_saved.safetensors", seed=2)), original)
    # everything from the one file through CheckpointLoaderSimple
    whole = {k: v for k, v in prompt.items() if k not in ("1", "2", "9")}
    whole["1"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux_saved.safetensors"}}
    whole["3"]["inputs"]["clip"] = ["1", 1]
    whole["7"]["inputs"]["vae"] = ["1", 2]
    same_image(image(engine, flow_env, whole), original)


def _round_trip(keys: dict, prefix: str = "") -> None:
    shapes = {prefix + k: tuple(s) for k, (s, _) in keys.items()}
    info = detect_checkpoint(shapes)
    unet = info.prefixes["unet"]
    released = {k[len(unet) :]: s for k, s in shapes.items() if k.startswith(unet)}
    network = info.family.to_network(meta_state({k: (list(s), "") for k, s in released.items()}), info.unet_config)
    with torch.device("meta"):
        module = info.family.network(info.unet_config)
    assert set(network) == set(module.state_dict())
    back = info.family.from_network(module.state_dict(), dict(module.config))
    assert set(back) - set(released) == set(), sorted(set(back) - set(released))[:5]
    assert set(released) - set(back) == set(), sorted(set(released) - set(back))[:5]
    wrong = [k for k, v in back.items() if tuple(v.shape) != released[k]]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("name", ["sd35_medium_checkpoint_keys", "sd35_large_checkpoint_keys"])
def test_full_size_sd35_names_round_trip(name):
    _round_trip({k: v for k, v in manifest(name)["keys"].items() if k.startswith("model.diffusion_model.")})


@pytest.mark.parametrize("name", ["flux1_dev_keys", "flux1_schnell_keys"])
def test_full_size_flux_names_round_trip(name):
    _round_trip(manifest(name)["keys"], "model.diffusion_model.")


def test_full_size_text_towers_round_trip_to_the_all_in_one_names():
    from nodeflow.models.family import family_named

    ref = manifest("sd35_medium_checkpoint_keys")["text_encoder_keys"]
    sd3 = family_named("sd3")
    for tower in sd3.text_towers:
        keys = {k[len(tower.prefix) :]: v for k, v in ref.items() if k.startswith(tower.prefix)}
        built = tower_from_state(meta_state(keys), tower, None, "manifest")
        back = released_tower_state(built.model.module.state_dict(), tower)
        want = {tower.prefix + k: tuple(s) for k, (s, _) in keys.items()}
        assert set(back) == set(want), (tower.name, sorted(set(back) ^ set(want))[:5])
        assert all(tuple(v.shape) == want[k] for k, v in back.items()), tower.name


def test_a_network_tensor_without_a_released_name_is_a_clear_error():
    from nodeflow.models.convert_flux import flux_from_diffusers
    from nodeflow.models.convert_rules import Rule, invert_rules

    rules = [Rule("a.qkv", ("q", "k", "v"), (2, 2, 2))]
    state = {n + ".weight": torch.full((2, 3), float(i)) for i, n in enumerate("qkv")}
    assert invert_rules(state, rules, "t")["a.qkv.weight"][:, 0].tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="no released name"):
        invert_rules({**state, "stray.weight": torch.zeros(1)}, rules, "t")
    with pytest.raises(ValueError, match=r"'k\.weight' is missing"):
        invert_rules({"q.weight": state["q.weight"], "v.weight": state["v.weight"]}, rules, "t")
    with pytest.raises(ValueError, match="Flux transformer"):
        flux_from_diffusers(
            {"x.weight": torch.zeros(1)},
            {"num_attention_heads": 1, "attention_head_dim": 2, "num_layers": 0, "num_single_layers": 0},
        )

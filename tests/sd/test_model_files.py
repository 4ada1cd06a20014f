"""Model files: clean errors for bad files, safe pickle loading, CheckpointSave round trip,
component loaders (VAE, UNet, CLIP files, diffusers folders)."""

import pickle

import pytest
import torch
from safetensors.torch import load_file, save_file

from nodeflow.models.checkpoint_file import ModelFileError, load_state_dict
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.saver import save_checkpoint

from .tiny import DEMO_VAE, tiny_sd1_modules


def test_truncated_corrupt_and_foreign_files_give_clear_errors(tiny_ckpt_file, tmp_path):
    data = tiny_ckpt_file.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load_checkpoint(tmp_path / "cut.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match=r"not a \.safetensors file"):
        load_checkpoint(tmp_path / "junk.safetensors")
    (tmp_path / "text.safetensors").write_text("hello, I am not a model")
    with pytest.raises(ModelFileError, match=r"text\.safetensors"):
        load_checkpoint(tmp_path / "text.safetensors")
    save_file({"something.weight": torch.zeros(3)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelFileError, match="not a Stable Diffusion checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")
    with pytest.raises(ModelFileError, match="does not exist"):
        load_state_dict(tmp_path / "missing.safetensors")


class Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/nodeflow_pickle_ran",))


def test_pickle_checkpoints_load_only_with_weights_only(tiny_ckpt_file, tmp_path):
    import os

    state = load_file(str(tiny_ckpt_file))
    torch.save({"state_dict": state}, tmp_path / "safe.ckpt")
    model, clip, vae = load_checkpoint(tmp_path / "safe.ckpt")
    assert model.family.name == "sd1" and clip is not None and vae is not None
    marker = "/tmp/nodeflow_pickle_ran"
    if os.path.exists(marker):
        os.remove(marker)
    with open(tmp_path / "evil.ckpt", "wb") as f:
        pickle.dump({"state_dict": state, "x": Payload()}, f)
    with pytest.raises(ModelFileError, match="refused"):
        load_checkpoint(tmp_path / "evil.ckpt")
    assert not os.path.exists(marker)


def test_checkpoint_save_round_trip_gives_identical_weights(tiny_ckpt_file, tmp_path):
    model, clip, vae = load_checkpoint(tiny_ckpt_file)
    original = load_file(str(tiny_ckpt_file))
    saved = save_checkpoint(tmp_path / "again.safetensors", model, clip, vae, {"prompt": {"1": {}}})
    written = load_file(str(saved))
    assert set(written) == set(original)
    assert all(torch.equal(written[k], original[k]) for k in original)
    model2, _clip2, _vae2 = load_checkpoint(saved)
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.unet.module.state_dict().values(), model2.unet.module.state_dict().values(), strict=False)
    )


def test_checkpoint_save_node_bakes_lora_and_writes_released_names(run_prompt, sd_env):
    from tests.helpers.lora_files import kohya_lora

    kohya_lora(sd_env.models_dir / "loras" / "l.safetensors")
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "2": {
            "class_type": "LoraLoader",
            "inputs": {
                "model": ["1", 0],
                "clip": ["1", 1],
                "lora_name": "l.safetensors",
                "strength_model": 1.0,
                "strength_clip": 1.0,
            },
        },
        "3": {
            "class_type": "CheckpointSave",
            "inputs": {"model": ["2", 0], "clip": ["2", 1], "vae": ["1", 2], "filename_prefix": "checkpoints/merged"},
        },
    }
    result, _ = run_prompt(prompt)
    assert result.status == "success", result.error
    record = result.outputs["3"]["checkpoints"][0]
    assert record["filename"] == "merged_00001_.safetensors"
    written = load_file(str(sd_env.output_dir / "checkpoints" / record["filename"]))
    original = load_file(str(sd_env.models_dir / "checkpoints" / "tiny.safetensors"))
    assert set(written) == set(original)
    differ = [k for k in original if not torch.equal(original[k], written[k])]
    assert differ == [
        "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight",
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
    ]


def test_component_loaders(tmp_path, sd_env, run_prompt):
    from nodeflow.models.convert_vae import vae_from_diffusers

    _unet, vae, _text = tiny_sd1_modules(seed=3)
    save_file(
        {k: v.contiguous() for k, v in vae_from_diffusers(vae.state_dict(), dict(vae.config)).items()},
        str(sd_env.models_dir / "vae" / "v.safetensors"),
    )
    full = load_file(str(sd_env.models_dir / "checkpoints" / "tiny.safetensors"))
    save_file(
        {k: v for k, v in full.items() if k.startswith("model.diffusion_model.")},
        str(sd_env.models_dir / "unet" / "u.safetensors"),
    )
    save_file(
        {
            k.removeprefix("cond_stage_model.transformer."): v
            for k, v in full.items()
            if k.startswith("cond_stage_model.")
        },
        str(sd_env.models_dir / "clip" / "c.safetensors"),
    )
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "u.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "CLIPLoader", "inputs": {"clip_name": "c.safetensors", "type": "stable_diffusion"}},
        "3": {"class_type": "VAELoader", "inputs": {"vae_name": "v.safetensors"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "star", "clip": ["2", 0]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": 0,
                "steps": 2,
                "cfg": 1.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["4", 0],
                "negative": ["4", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
            },
        },
        "7": {
            "class_type": "VAEDecodeTiled",
            "inputs": {
                "samples": ["6", 0],
                "vae": ["3", 0],
                "tile_size": 64,
                "overlap": 32,
                "temporal_size": 64,
                "temporal_overlap": 8,
            },
        },
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "c"}},
    }
    result, _ = run_prompt(prompt)
    assert result.status == "success", result.error


def test_vae_tiled_matches_whole_within_tolerance():
    """On a trained VAE (the demo pack's), tiling costs less than the VAE's own round trip loses."""
    import random

    import numpy as np

    from nodeflow.demo.shapes import random_scene, render
    from nodeflow.models.loader import load_vae_file

    vae = load_vae_file(DEMO_VAE)  # the VAE part of the demo checkpoint
    image = torch.from_numpy(np.stack([np.asarray(render(random_scene(random.Random(0)), 256))])).float() / 255
    latent = vae.encode(image)
    decoded = vae.decode(latent)
    round_trip = (decoded - image).abs().mean()
    tiled_latent = vae.encode_tiled(image, tile_x=128, overlap=64)
    tiled = vae.decode_tiled(latent, tile_x=128 // vae.downscale, overlap=64 // vae.downscale)
    assert tiled_latent.shape == latent.shape == (1, 4, 32, 32) and tiled.shape == decoded.shape == (1, 256, 256, 3)
    assert (tiled - decoded).abs().mean() < round_trip
    assert (vae.decode(tiled_latent) - image).abs().mean() < 2 * round_trip


def test_diffusers_folder_loads(tmp_path, sd_env, run_prompt):
    unet, vae, text = tiny_sd1_modules(seed=4)
    folder = sd_env.models_dir / "diffusers" / "tiny-pipe"
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    text.save_pretrained(folder / "text_encoder")
    (folder / "model_index.json").write_text("{}")
    prompt = {
        "1": {"class_type": "DiffusersLoader", "inputs": {"model_path": "tiny-pipe"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "star", "clip": ["1", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": 0,
                "steps": 2,
                "cfg": 3.0,
                "sampler_name": "heun",
                "scheduler": "karras",
                "positive": ["2", 0],
                "negative": ["2", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
            },
        },
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "d"}},
    }
    result, _ = run_prompt(prompt)
    assert result.status == "success", result.error


def test_vae_falls_back_to_tiles_when_memory_runs_out(tiny_ckpt_file, monkeypatch):
    _, _, vae = load_checkpoint(tiny_ckpt_file)
    latent = torch.zeros(1, 4, 8, 8)
    calls = []
    real = vae._decode

    def fake(latent, tiled):
        calls.append(tiled)
        if not tiled:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(latent, tiled)

    monkeypatch.setattr(vae, "_decode", fake)
    assert vae.decode(latent).shape == (1, 64, 64, 3) and calls == [False, True]

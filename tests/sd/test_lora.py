"""LoRA: exactly the targeted weights change, by strength x scale x up @ down; removable."""

import pytest
import torch
from safetensors.torch import save_file

from nodeflow.models.loader import load_checkpoint
from nodeflow.models.lora import apply_lora, load_lora
from tests.helpers.lora_files import kohya_lora


@pytest.fixture(scope="module")
def loaded(tiny_ckpt_file):
    return load_checkpoint(tiny_ckpt_file)


def unet_weights(model):
    model.unet.activate()
    return {k: v.detach().clone() for k, v in model.unet.module.state_dict().items()}


def clip_weights(clip):
    enc = clip.encoders[0]
    enc.model.activate()
    return {k: v.detach().clone() for k, v in enc.model.module.state_dict().items()}


@pytest.mark.parametrize("original_names", [False, True])
def test_kohya_lora_changes_exactly_the_targeted_weights(loaded, tmp_path, original_names):
    model, clip, _ = loaded
    base_unet, base_clip = unet_weights(model), clip_weights(clip)
    tensors, key = kohya_lora(tmp_path / "l.safetensors", original_names=original_names)
    patched_model, patched_clip, unused = apply_lora(model, clip, load_lora(tmp_path / "l.safetensors"), 0.7, 0.3, "l")
    assert unused == []
    after_unet, after_clip = unet_weights(patched_model), clip_weights(patched_clip)
    target = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"
    expected = base_unet[target] + 0.7 * (1.0 / 2) * (
        tensors[f"{key}.lora_up.weight"] @ tensors[f"{key}.lora_down.weight"]
    )
    assert torch.allclose(after_unet[target], expected, atol=1e-6)
    changed = [k for k in base_unet if not torch.equal(base_unet[k], after_unet[k])]
    assert changed == [target]
    changed_clip = [k for k in base_clip if not torch.equal(base_clip[k], after_clip[k])]
    assert changed_clip == ["encoder.layers.0.self_attn.q_proj.weight"]
    # the unpatched clone gets the original weights back, bit for bit
    assert all(torch.equal(v, unet_weights(model)[k]) for k, v in base_unet.items())
    assert all(torch.equal(v, clip_weights(clip)[k]) for k, v in base_clip.items())


def test_peft_and_loha_formats(loaded, tmp_path):
    model, _clip, _ = loaded
    base = unet_weights(model)
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(4, 32, generator=g), torch.randn(32, 4, generator=g)
    module = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"
    save_file({f"{module}.lora_A.weight": a, f"{module}.lora_B.weight": b}, str(tmp_path / "peft.safetensors"))
    patched, _, _ = apply_lora(model, None, load_lora(tmp_path / "peft.safetensors"), 1.0, 0.0, "peft")
    target = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"
    assert torch.allclose(unet_weights(patched)[target], base[target] + b @ a, atol=1e-6)
    w = [torch.randn(s, generator=g) for s in ((32, 2), (2, 32), (32, 2), (2, 32))]
    key = "lora_unet_down_blocks_0_attentions_0_proj_out"
    save_file(
        {
            f"{key}.hada_w1_a": w[0],
            f"{key}.hada_w1_b": w[1],
            f"{key}.hada_w2_a": w[2],
            f"{key}.hada_w2_b": w[3],
            f"{key}.alpha": torch.tensor(2.0),
        },
        str(tmp_path / "loha.safetensors"),
    )
    patched, _, _ = apply_lora(model, None, load_lora(tmp_path / "loha.safetensors"), 0.5, 0.0, "loha")
    target = "down_blocks.0.attentions.0.proj_out.weight"
    delta = ((w[0] @ w[1]) * (w[2] @ w[3])).reshape(base[target].shape)
    assert torch.allclose(unet_weights(patched)[target], base[target] + 0.5 * delta, atol=1e-5)


def test_lora_for_another_model_is_a_clear_error(loaded, tmp_path):
    model, clip, _ = loaded
    save_file(
        {
            "lora_unet_nothing_here.lora_down.weight": torch.zeros(1, 4),
            "lora_unet_nothing_here.lora_up.weight": torch.zeros(4, 1),
        },
        str(tmp_path / "x.safetensors"),
    )
    with pytest.raises(ValueError, match="matched no weights"):
        apply_lora(model, clip, load_lora(tmp_path / "x.safetensors"), 1.0, 1.0, "x")
    save_file({"foo": torch.zeros(2)}, str(tmp_path / "y.safetensors"))
    with pytest.raises(ValueError, match="holds no LoRA weights"):
        load_lora(tmp_path / "y.safetensors")


def test_lora_node_through_engine_changes_output_and_base_stays(run_prompt, sd_env, engine):
    from tests.helpers.engine_results import latent_of
    from tests.helpers.sd_prompts import txt2img

    kohya_lora(sd_env.models_dir / "loras" / "style.safetensors", alpha=2.0)
    base = latent_of(sd_env, run_prompt(txt2img(seed=1))[0])
    prompt = txt2img(seed=1)
    prompt["30"] = {
        "class_type": "LoraLoader",
        "inputs": {
            "model": ["1", 0],
            "clip": ["1", 1],
            "lora_name": "style.safetensors",
            "strength_model": 1.0,
            "strength_clip": 1.0,
        },
    }
    prompt["5"]["inputs"]["model"] = ["30", 0]
    prompt["2"]["inputs"]["clip"] = ["30", 1]
    with_lora = latent_of(sd_env, run_prompt(prompt)[0])
    assert not torch.allclose(base, with_lora)
    engine.free(unload_models=False, free_memory=True)  # re-run the base graph on the same loaded model
    assert torch.equal(latent_of(sd_env, run_prompt(txt2img(seed=1))[0]), base)

"""LoRAs for Flux and SD3 in the kohya layout (released module names, fused q/k/v split onto the
network's to_q/to_k/to_v rows) and the diffusers/PEFT layout change exactly the weights they name;
through the server a LoRA changes the image."""

import numpy as np
import torch

from nodeflow.models.component_files import unet_from_state
from nodeflow.models.loader import load_checkpoint_state
from nodeflow.models.lora import apply_lora, group_lora
from tests.flow.tiny_flow import flux_state, save, sd35_medium_state
from tests.helpers.flow_prompts import flux_prompt, run


def kohya_pair(out_rows: int, in_features: int, rank: int = 4, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "lora_down.weight": torch.randn(rank, in_features, generator=g),
        "lora_up.weight": torch.randn(out_rows, rank, generator=g),
        "alpha": torch.tensor(float(rank)),
    }


def lora_file(modules: dict) -> dict:
    return {f"{m}.{part}": t for m, parts in modules.items() for part, t in parts.items()}


def weights(model):
    model.unet.activate()
    return {k: v.detach().clone() for k, v in model.unet.module.state_dict().items()}


def test_flux_kohya_lora_on_fused_qkv_and_linear1():
    model = unet_from_state(flux_state())
    qkv = kohya_pair(192, 64)
    linear1 = kohya_pair(448, 64, seed=1)
    peft = {"lora_A.weight": torch.randn(2, 64), "lora_B.weight": torch.randn(64, 2)}
    sd = lora_file({"lora_unet_double_blocks_0_img_attn_qkv": qkv, "lora_unet_single_blocks_1_linear1": linear1})
    sd.update(lora_file({"transformer.transformer_blocks.1.attn.to_out.0": peft}))
    base = weights(model)
    patched, _, unused = apply_lora(model, None, group_lora(sd), 0.5, 0.0, "test.safetensors")
    assert unused == []
    after = weights(patched)
    full = qkv["lora_up.weight"] @ qkv["lora_down.weight"]
    for i, name in enumerate(("to_q", "to_k", "to_v")):
        key = f"transformer_blocks.0.attn.{name}.weight"
        assert torch.allclose(after[key] - base[key], 0.5 * full[i * 64 : (i + 1) * 64], atol=1e-5), key
    mlp = linear1["lora_up.weight"] @ linear1["lora_down.weight"]
    key = "single_transformer_blocks.1.proj_mlp.weight"
    assert torch.allclose(after[key] - base[key], 0.5 * mlp[192:], atol=1e-5)
    key = "transformer_blocks.1.attn.to_out.0.weight"
    assert torch.allclose(after[key] - base[key], 0.5 * peft["lora_B.weight"] @ peft["lora_A.weight"], atol=1e-5)
    untouched = [k for k in base if torch.equal(base[k], after[k])]
    assert len(untouched) == len(base) - 3 - 4 - 1
    assert torch.equal(
        weights(model)["transformer_blocks.0.attn.to_q.weight"], base["transformer_blocks.0.attn.to_q.weight"]
    )


def test_sd3_kohya_lora_on_joint_blocks():
    model, _, _ = load_checkpoint_state(sd35_medium_state(), "tiny sd3", output_vae=False, output_clip=False)
    qkv = kohya_pair(192, 64)
    sd = lora_file(
        {
            "lora_unet_joint_blocks_1_context_block_attn_qkv": qkv,
            "lora_unet_joint_blocks_0_x_block_attn2_proj": kohya_pair(64, 64, seed=2),
        }
    )
    base = weights(model)
    patched, _, unused = apply_lora(model, None, group_lora(sd), 1.0, 0.0, "sd3_lora.safetensors")
    assert unused == []
    after = weights(patched)
    full = qkv["lora_up.weight"] @ qkv["lora_down.weight"]
    key = "transformer_blocks.1.attn.add_v_proj.weight"
    assert torch.allclose(after[key] - base[key], full[128:], atol=1e-5)
    assert not torch.equal(
        after["transformer_blocks.0.attn2.to_out.0.weight"], base["transformer_blocks.0.attn2.to_out.0.weight"]
    )


async def test_a_flux_lora_changes_the_image(api):
    sd = lora_file(
        {
            "lora_unet_double_blocks_0_img_attn_qkv": kohya_pair(192, 64),
            "lora_unet_single_blocks_0_linear2": kohya_pair(64, 320, seed=5),
        }
    )
    save(sd, api.env.models_dir / "loras" / "flux_style.safetensors")
    plain = await run(api, flux_prompt(seed=1))
    styled = await run(api, flux_prompt(seed=1, lora="flux_style.safetensors"))
    assert np.abs(plain - styled).mean() > 0.5

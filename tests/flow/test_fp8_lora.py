"""fp8 weight storage (UNETLoader weight_dtype fp8_*): every linear, adaLN modulation included, stays fp8;
a LoRA on it is added while each layer runs, so the model computes exactly what a full-precision model
holding the fp8-rounded weights plus the LoRA computes; unpatching and saving keep the fp8 originals."""

import pytest
import torch

from nodeflow.models.component_files import unet_from_state
from nodeflow.models.fp8_storage import stored_layers
from nodeflow.models.lora import apply_lora, group_lora
from nodeflow.models.saver import checkpoint_state
from tests.flow.test_flow_lora import kohya_pair, lora_file
from tests.flow.tiny_flow import flux_state

FP8 = torch.float8_e4m3fn


def fp8_rounded(state: dict, stored: set[str]) -> dict:
    """``state`` with the tensors fp8 storage keeps in fp8 rounded through fp8 (held in fp32)."""
    return {k: v.to(FP8).float() if k.rpartition(".")[0] in stored else v for k, v in state.items()}


def network_state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.unet.module.state_dict().items()}


def lora():
    sd = lora_file(
        {
            "lora_unet_double_blocks_0_img_attn_qkv": kohya_pair(192, 64),
            "lora_unet_single_blocks_1_linear1": kohya_pair(448, 64, seed=1),
            "lora_unet_double_blocks_1_img_mod_lin": kohya_pair(384, 64, seed=2),
        }
    )
    return group_lora({k: v * 0.05 if k.endswith("weight") else v for k, v in sd.items()})


def inputs(model):
    config = model.unet.module.config
    g = torch.Generator().manual_seed(7)
    x = torch.randn(1, 16, 8, 8, generator=g)
    context = torch.randn(1, 5, config.joint_attention_dim, generator=g)
    y = {"pooled": torch.randn(1, config.pooled_projection_dim, generator=g), "guidance": torch.tensor([3.5])}
    return x, torch.tensor([0.6]), context, y


def run(model):
    with torch.no_grad():
        return model.apply(*inputs(model))


@pytest.fixture(scope="module")
def models():
    """(fp8 model, the same network in fp32 holding the fp8-rounded weights)."""
    state = flux_state()
    fp8 = unet_from_state(dict(state), weight_dtype="fp8_e4m3fn")
    layers = set(stored_layers(fp8.unet.module))
    # the fp8 model's network state in the network's names, rounded like it, as a full-precision model
    reference = unet_from_state(dict(state))
    rounded = fp8_rounded(network_state(reference), layers)
    reference.unet.module.load_state_dict(rounded)
    return fp8, reference


def test_every_linear_is_fp8_and_adaln_too(models):
    fp8, _ = models
    module = fp8.unet.module
    dtypes = {k: v.dtype for k, v in module.state_dict().items()}
    assert dtypes["transformer_blocks.0.norm1.linear.weight"] == FP8  # adaLN modulation (Flux: a quarter)
    assert dtypes["single_transformer_blocks.0.norm.linear.weight"] == FP8
    assert dtypes["transformer_blocks.0.attn.to_q.weight"] == FP8
    assert dtypes["transformer_blocks.0.attn.norm_q.weight"] == torch.float32  # norms in the compute dtype
    fp8_bytes = sum(v.numel() for v in module.state_dict().values() if v.dtype == FP8)
    assert fp8_bytes > 0.9 * sum(v.numel() for v in module.state_dict().values())


def test_fp8_model_computes_as_full_precision_on_rounded_weights(models):
    fp8, reference = models
    assert torch.allclose(run(fp8), run(reference), rtol=1e-5, atol=1e-5)
    assert {v.dtype for k, v in fp8.unet.module.state_dict().items() if k.endswith("to_q.weight")} == {FP8}


def test_lora_on_fp8_is_added_exactly_and_removed_bit_for_bit(models):
    fp8, reference = models
    before = network_state(fp8)
    plain = run(fp8)
    patched, _, unused = apply_lora(fp8, None, lora(), 0.8, 0.0, "flux_lora.safetensors")
    assert unused == []
    ref_patched, _, _ = apply_lora(reference, None, lora(), 0.8, 0.0, "flux_lora.safetensors")
    out, ref_out = run(patched), run(ref_patched)
    assert torch.allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    assert (out - plain).abs().max() > 100 * (out - ref_out).abs().max()  # the LoRA's effect is all there
    # the stored weights never changed; the model without the LoRA gives its first output again
    assert all(torch.equal(before[k].float(), v.float()) for k, v in network_state(patched).items())
    assert torch.equal(run(fp8), plain)


def test_saving_an_fp8_model_with_a_lora_bakes_it_in_once(models):
    fp8, reference = models
    patched, _, _ = apply_lora(fp8, None, lora(), 1.0, 0.0, "flux_lora.safetensors")
    ref_patched, _, _ = apply_lora(reference, None, lora(), 1.0, 0.0, "flux_lora.safetensors")
    saved = checkpoint_state(patched, None, None)
    ref_saved = checkpoint_state(ref_patched, None, None)
    key = "model.diffusion_model.double_blocks.1.img_mod.lin.weight"
    assert saved[key].dtype == FP8
    assert torch.equal(saved[key], ref_saved[key].to(FP8))
    assert not torch.equal(saved[key], checkpoint_state(fp8, None, None)[key])
    assert network_state(fp8)["transformer_blocks.1.norm1.linear.weight"].dtype == FP8


def test_a_failing_forward_leaves_the_layer_stored(models):
    fp8, _ = models
    layer = fp8.unet.module.transformer_blocks[0].attn.to_q
    with pytest.raises(RuntimeError):
        layer(torch.randn(2, 3))  # wrong width
    assert layer.weight.dtype == FP8


def test_an_fp8_t5_file_stays_fp8_and_computes_as_its_widened_weights():
    """t5xxl_fp8_e4m3fn-style files: the linears stay fp8 (a quarter of fp32's bytes) and the tower
    encodes exactly as a full-precision tower holding the same (widened) weights."""
    from nodeflow.models.t5_encoder import build_t5
    from tests.flow.tiny_flow import text_encoder_state

    state = text_encoder_state("t5xxl")
    linear = [
        k
        for k, v in state.items()
        if v.dim() == 2
        and k.endswith(("q.weight", "k.weight", "v.weight", "o.weight", "wi_0.weight", "wi_1.weight", "wo.weight"))
    ]
    assert linear
    # every matrix stored fp8, the vocabulary too (in the tiny model it outweighs the linears)
    stored = {k: v.to(FP8) if k in linear or k.endswith("shared.weight") else v for k, v in state.items()}
    fp8 = build_t5(stored, torch.float32)
    wide = build_t5({k: v.float() for k, v in stored.items()}, torch.float32)
    params = dict(fp8.named_parameters())
    assert {params[k].dtype for k in linear if k in params} == {FP8}
    assert params["shared.weight"].dtype == torch.float32
    ids = torch.tensor([[5, 17, 3, 9, 1]])
    with torch.no_grad():
        a = fp8(input_ids=ids).last_hidden_state
        b = wide(input_ids=ids).last_hidden_state
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)
    assert {p.dtype for p in fp8.parameters()} == {FP8, torch.float32}

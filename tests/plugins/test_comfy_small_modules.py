"""The smaller comfy.* modules on NodeFlow: loaders from state dicts, conds, float, model detection,
sampler helpers, patcher_extension helpers, model_base / latent_formats classes, missing symbols."""

import comfy.conds
import comfy.float
import comfy.latent_formats
import comfy.model_base
import comfy.model_detection
import comfy.model_patcher
import comfy.patcher_extension as pe
import comfy.sampler_helpers
import comfy.sd
import pytest
import torch
from safetensors.torch import load_file

from nodeflow.comfy_compat import MissingComfySymbol


def test_loading_from_state_dicts(loaded, tiny_file):
    model, clip, _vae = loaded
    sd = load_file(str(tiny_file))
    found = comfy.sd.load_state_dict_guess_config(sd)
    assert isinstance(found[0], comfy.model_patcher.ModelPatcher) and isinstance(found[1], comfy.sd.CLIP)
    assert isinstance(found[2], comfy.sd.VAE) and found[3] is None
    assert comfy.sd.load_state_dict_guess_config({"nothing": torch.zeros(1)}) is None
    unet = {k: v for k, v in sd.items() if k.startswith("model.diffusion_model.")}
    alone = comfy.sd.load_diffusion_model_state_dict(unet)
    assert torch.equal(
        alone.model_state_dict()["diffusion_model.out.2.weight"],
        model.model_state_dict()["diffusion_model.out.2.weight"],
    )
    prefix = "cond_stage_model.transformer.text_model."
    text = comfy.sd.load_text_encoder_state_dicts([{k: v for k, v in sd.items() if k.startswith(prefix)}])
    tokens = clip.tokenize("a red star")
    assert torch.equal(text.encode_from_tokens(tokens), clip.encode_from_tokens(tokens))
    assert comfy.model_detection.unet_prefix_from_state_dict(sd) == "model.diffusion_model."
    assert comfy.model_detection.unet_prefix_from_state_dict({"model.x": 1}) == "model."
    with pytest.raises(RuntimeError, match="Could not detect model type"):
        comfy.sd.load_checkpoint_guess_config(str(_not_a_checkpoint(tiny_file.parent)))


def _not_a_checkpoint(folder):
    from safetensors.torch import save_file

    path = folder / "not_a_checkpoint.safetensors"
    save_file({"x": torch.zeros(2)}, str(path))
    return path


def test_conds_and_sampler_helpers():
    spatial = comfy.conds.CONDNoiseShape(torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4))
    cropped = spatial.process_cond(batch_size=4, device="cpu", area=(2, 2, 1, 1))
    assert cropped.cond.shape == (4, 1, 2, 2) and torch.equal(cropped.cond[0], spatial.cond[0, :, 1:3, 1:3])
    a, b = comfy.conds.CONDCrossAttn(torch.ones(1, 77, 8)), comfy.conds.CONDCrossAttn(torch.zeros(1, 154, 8))
    assert a.can_concat(b) and a.concat([b]).shape == (2, 154, 8)
    mask = comfy.sampler_helpers.prepare_mask(torch.ones(1, 16, 16), (2, 4, 8, 8), "cpu")
    assert mask.shape == (2, 4, 8, 8) and bool((mask == 1).all())
    assert comfy.sampler_helpers.convert_cond([[torch.ones(1), {"a": 1}]])[0]["a"] == 1


def test_stochastic_rounding_is_seeded_and_unbiased():
    value = torch.full((20000,), 1.0 + 2**-12)  # between two float16 neighbours, a quarter of the way up
    first = comfy.float.stochastic_rounding(value, torch.float16, seed=3)
    assert first.dtype == torch.float16 and torch.equal(first, comfy.float.stochastic_rounding(value, torch.float16, 3))
    assert set(first.float().unique().tolist()) == {1.0, 1.0 + 2**-10}
    assert abs(float(first.float().mean()) - float(value.mean())) < 2e-5
    assert comfy.float.stochastic_rounding(value, torch.float32).dtype == torch.float32


def test_patcher_extension_helpers_and_classes():
    merged = pe.merge_nested_dicts({"a": {"x": [1]}, "b": 1}, {"a": {"x": [2], "y": 3}, "b": 2})
    assert merged == {"a": {"x": [1, 2], "y": 3}, "b": 2}
    options = {}
    pe.add_wrapper_with_key(pe.WrappersMP.APPLY_MODEL, "k", len, options, is_model_options=True)
    assert pe.get_all_wrappers(pe.WrappersMP.APPLY_MODEL, options, is_model_options=True) == [len]
    injection = pe.PatcherInjection(inject=print, eject=print)
    assert comfy.model_patcher.PatcherInjection is pe.PatcherInjection and injection.eject is print
    flow = comfy.model_base.model_sampling(None, comfy.model_base.ModelType.FLOW)
    assert flow.prediction == "flow" and float(flow.sigma_max) == pytest.approx(1.0)
    assert not isinstance(object(), comfy.model_base.Flux) and issubclass(
        comfy.model_base.SD3, comfy.model_base.BaseModel
    )
    x = torch.ones(1, 4, 2, 2)
    assert torch.equal(comfy.latent_formats.SDXL().process_in(x), x * 0.13025)
    assert comfy.latent_formats.Flux().latent_channels == 16
    with pytest.raises(MissingComfySymbol, match=r"comfy\.sd\.load_controlnet"):
        _ = comfy.sd.load_controlnet

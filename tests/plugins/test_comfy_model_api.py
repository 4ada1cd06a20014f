"""NodeFlow's MODEL as ComfyUI's ModelPatcher: isinstance, clone, add_patches in ComfyUI's weight
names and patch formats (diffs, merges, LoRA), model_options functions and wrappers that change the
result measurably, object patches, callbacks, and the parts of ``model.model``."""

import comfy.latent_formats
import comfy.lora
import comfy.model_base
import comfy.model_patcher
import comfy.model_sampling
import comfy.patcher_extension as pe
import comfy.sd
import pytest
import torch

from nodeflow.models.lora import apply_lora, group_lora
from nodeflow.sampling.run import SampleRequest, ksample
from tests.sd.tiny import write_tiny_sd1

KEY = "diffusion_model.out.2.weight"


def _run(model, conds, cfg=5.0, sampler="euler", seed=3, latent=None):
    positive, negative = conds
    latent = latent if latent is not None else {"samples": torch.zeros(1, 4, 8, 8)}
    return ksample(SampleRequest(model, positive, negative, latent, seed, cfg, sampler), "normal", 3)["samples"]


def _weight(model, key=KEY):
    name = dict(model._patch_targets())[key][1]
    model.unet.activate()
    return model.unet.module.get_parameter(name).detach().clone()


def test_model_is_a_model_patcher_with_comfy_parts(loaded):
    model, _, _ = loaded
    assert isinstance(model, comfy.model_patcher.ModelPatcher) and model.is_clone(model.clone())
    base = model.model
    assert isinstance(base, comfy.model_base.BaseModel) and not isinstance(base, comfy.model_base.SDXL)
    assert base.diffusion_model is model.unet.module and base.model_type == comfy.model_base.ModelType.EPS
    assert isinstance(base.latent_format, comfy.latent_formats.SD15) and base.latent_format.latent_channels == 4
    assert model.get_model_object("latent_format").scale_factor == 0.18215
    ms = model.get_model_object("model_sampling")
    assert isinstance(ms, comfy.model_sampling.EPS) and isinstance(ms, comfy.model_sampling.ModelSamplingDiscrete)
    assert torch.equal(ms.sigmas, model.schedule.sigmas) and float(ms.sigma_max) == model.schedule.sigma_max
    assert ms.timestep(ms.sigmas[[0, 500, 999]]).tolist() == [0, 500, 999]
    assert base.model_config.unet_config["context_dim"] == 32 and model.model_dtype() == torch.float32
    assert model.load_device == torch.device("cpu") and model.memory_required([1, 4, 8, 8]) > 0
    x = torch.randn(1, 4, 8, 8)
    assert torch.equal(base.process_latent_in(x), x * 0.18215)
    assert model.get_model_object("diffusion_model") is model.unet.module


@pytest.mark.slow  # 5-18 s of CPU each: sampling the tiny model several times
def test_add_patches_diff_and_set_stay_on_the_clone(loaded, conds):
    model, _, _ = loaded
    original = _weight(model)
    before = _run(model, conds)
    patched = model.clone()
    assert patched.add_patches({KEY: (torch.ones_like(original),), "not.a.weight": (torch.ones(1),)}, 0.25) == [KEY]
    assert torch.equal(_weight(patched), original + 0.25)
    assert not torch.equal(_run(patched, conds), before)
    assert torch.equal(_weight(model), original) and torch.equal(
        _run(model, conds), before
    )  # the original is untouched
    assert patched.patches[KEY][0][:3] == (0.25, patched.patches[KEY][0][1], 1.0)
    scaled = model.clone()
    scaled.add_patches({KEY: ("set", (torch.full_like(original, 2.0),))})
    assert torch.equal(_weight(scaled), torch.full_like(original, 2.0))
    assert torch.equal(model.model_state_dict()[KEY], original)


def test_merging_with_get_key_patches(loaded, tmp_path):
    """ModelMergeSimple's recipe: w = ratio * w1 + (1 - ratio) * w2 through add_patches."""
    model, _, _ = loaded
    other, _, _, _ = comfy.sd.load_checkpoint_guess_config(str(write_tiny_sd1(tmp_path / "other.safetensors", seed=1)))
    other = other.clone()
    other.add_patches({KEY: (torch.ones_like(_weight(other)),)}, 1.0)  # the other model's own patch travels too
    merged = model.clone()
    for key, value in other.get_key_patches("diffusion_model.").items():
        merged.add_patches({key: value}, 1.0 - 0.3, 0.3)
    expected = _weight(model) * 0.3 + (0.7 * (_weight(other)))
    assert torch.allclose(_weight(merged), expected, atol=1e-6)
    assert len(model.get_key_patches()) == len(model.model_state_dict())


def _tiny_lora(model) -> dict:
    """A kohya-style LoRA on two UNet projections, named as released files name them."""
    torch.manual_seed(0)
    sd = {}
    for module in (
        "lora_unet_down_blocks_0_attentions_0_proj_in",
        "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k",
    ):
        target = dict(model.unet.module.named_modules())[
            module.removeprefix("lora_unet_")
            .replace("_", ".")
            .replace("down.blocks", "down_blocks")
            .replace("up.blocks", "up_blocks")
            .replace("transformer.blocks", "transformer_blocks")
            .replace("to.k", "to_k")
            .replace("proj.in", "proj_in")
        ]
        w = target.weight
        sd[f"{module}.lora_down.weight"] = torch.randn(2, *w.shape[1:]) * 0.1
        sd[f"{module}.lora_up.weight"] = torch.randn(w.shape[0], 2, *([1] * (w.dim() - 2))) * 0.1
        sd[f"{module}.alpha"] = torch.tensor(1.0)
    return sd


def test_lora_through_comfy_matches_nodeflow_lora(loaded):
    model, clip, _ = loaded
    lora = _tiny_lora(model)
    nodeflow_model, _, unused = apply_lora(model, None, group_lora(lora), 0.8, 0.0, "test")
    assert unused == []
    via_sd, _ = comfy.sd.load_lora_for_models(model, clip, lora, 0.8, 0.0)
    key_map = comfy.lora.model_lora_keys_unet(model.model, {})
    patches = comfy.lora.load_lora(lora, key_map)
    assert len(patches) == 2 and all(v[0] == "lora" for v in patches.values())
    low_level = model.clone()
    assert sorted(low_level.add_patches(patches, 0.8)) == sorted(patches)
    for key in patches:
        expected = _weight(nodeflow_model, key)
        assert torch.allclose(_weight(via_sd, key), expected, atol=1e-6)
        assert torch.allclose(_weight(low_level, key), expected, atol=1e-6)
        entry = low_level.get_key_patches()[key]
        w = comfy.lora.calculate_weight(entry[1:], entry[0][0].clone(), key)
        assert torch.allclose(w, expected, atol=1e-6)


@pytest.mark.slow  # 5-18 s of CPU each: sampling the tiny model several times
def test_model_options_functions_change_the_result(loaded, conds):
    model, _, _ = loaded
    reference, unguided = _run(model, conds, cfg=5.0), _run(model, conds, cfg=1.0)
    same = model.clone()
    same.set_model_sampler_cfg_function(lambda a: a["uncond"] + (a["cond"] - a["uncond"]) * a["cond_scale"])
    assert torch.allclose(_run(same, conds), reference, atol=1e-4)
    cond_only = model.clone()
    cond_only.set_model_sampler_cfg_function(lambda a: a["cond"])
    assert torch.allclose(_run(cond_only, conds), unguided, atol=1e-4)
    assert not torch.allclose(_run(cond_only, conds), reference, atol=1e-2)
    post = model.clone()
    seen = []
    post.set_model_sampler_post_cfg_function(lambda a: seen.append(sorted(a)) or a["cond_denoised"])
    assert torch.allclose(_run(post, conds), unguided, atol=1e-4)
    assert {"denoised", "cond_denoised", "uncond_denoised", "sigma", "input", "model"} <= set(seen[0])
    old_style = model.clone()
    old_style.set_model_sampler_cfg_function(lambda cond, uncond, scale: uncond + (cond - uncond) * scale)
    assert torch.allclose(_run(old_style, conds), reference, atol=1e-4)


def test_unet_function_wrapper_and_apply_model_wrapper(loaded, conds):
    model, _, _ = loaded
    reference = _run(model, conds)
    calls = []

    def wrapper(apply_model, args):
        calls.append(args["cond_or_uncond"])
        return apply_model(args["input"], args["timestep"], **args["c"])

    same = model.clone()
    same.set_model_unet_function_wrapper(wrapper)
    assert torch.equal(_run(same, conds), reference) and calls == [[0, 1]] * 3
    halved = model.clone()
    halved.set_model_unet_function_wrapper(lambda apply, a: apply(a["input"], a["timestep"], **a["c"]) * 0.5)
    assert not torch.allclose(_run(halved, conds), reference, atol=1e-3)
    seen = []

    def apply_wrapper(executor, x, t, c_concat, c_crossattn, control, transformer_options, **kwargs):
        seen.append(transformer_options["cond_or_uncond"])
        return executor(x, t, c_concat, c_crossattn, control, transformer_options, **kwargs)

    wrapped = model.clone()
    wrapped.add_wrapper_with_key(pe.WrappersMP.APPLY_MODEL, "test", apply_wrapper)
    assert torch.equal(_run(wrapped, conds), reference) and seen == [[0, 1]] * 3
    assert wrapped.get_wrappers(pe.WrappersMP.APPLY_MODEL, "test") == [apply_wrapper]


@pytest.mark.slow  # 5-18 s of CPU each: sampling the tiny model several times
def test_object_patched_model_sampling_and_mask_function(loaded, conds):
    model, _, _ = loaded
    reference = _run(model, conds)
    v = model.clone()

    class VSampling(comfy.model_sampling.V_PREDICTION, comfy.model_sampling.ModelSamplingDiscrete):
        pass

    v.add_object_patch("model_sampling", VSampling(v.model.model_config))
    assert (
        v.prediction == "v"
        and model.prediction == "eps"
        and v.model.model_type == comfy.model_base.ModelType.V_PREDICTION
    )
    assert not torch.allclose(_run(v, conds), reference, atol=1e-3)
    eps = model.clone()
    eps.add_object_patch("model_sampling", comfy.model_base.model_sampling(None, comfy.model_base.ModelType.EPS))
    assert torch.allclose(_run(eps, conds), reference, rtol=1e-4, atol=1e-3)  # division vs multiplication by 1/sqrt
    masked = model.clone()
    calls = []
    masked.set_model_denoise_mask_function(
        lambda sigma, mask, extra_options: calls.append(sorted(extra_options)) or mask
    )
    latent = {"samples": torch.zeros(1, 4, 8, 8), "noise_mask": torch.ones(1, 8, 8)}
    assert torch.equal(_run(masked, conds, latent=latent), _run(model, conds, latent=latent))
    assert calls and calls[0] == ["model", "sigmas"]


def test_callbacks_and_unsupported_unet_patches(loaded, conds):
    model, _, _ = loaded
    events = []
    m = model.clone()
    m.add_callback_with_key(pe.CallbacksMP.ON_PRE_RUN, "t", lambda patcher: events.append(("pre", patcher is m)))
    m.add_callback_with_key(pe.CallbacksMP.ON_CLEANUP, "t", lambda patcher: events.append(("cleanup", patcher is m)))
    _run(m, conds)
    assert events == [("pre", True), ("cleanup", True)]
    attn = model.clone()
    attn.set_model_attn2_patch(lambda q, k, v, extra_options: (q, k, v))
    with pytest.raises(NotImplementedError, match="attn2_patch"):
        _run(attn, conds)
    assert model.model_options == {"transformer_options": {}}


def test_a_packs_own_module_in_a_model_patcher():
    net = torch.nn.Linear(3, 2)
    patcher = comfy.model_patcher.ModelPatcher(net, load_device="cpu", offload_device="cpu")
    clone = patcher.clone()
    clone.add_patches({"weight": (torch.ones(2, 3),)}, 2.0)
    before = net.weight.detach().clone()
    assert clone.patch_model() is net and torch.equal(net.weight, before + 2.0)
    patcher.patch_model()
    assert torch.equal(net.weight, before) and patcher.model is net and patcher.is_clone(clone)
    options = comfy.model_patcher.create_model_options_clone(clone.model_options)
    options["transformer_options"]["x"] = 1
    assert "x" not in clone.model_options["transformer_options"]

"""comfy.sample / comfy.samplers on NodeFlow: a pack sampling through ComfyUI's entry points gets
exactly the LATENT NodeFlow's KSampler / KSamplerAdvanced / SamplerCustom give for the same inputs."""

import comfy.sample
import comfy.samplers
import pytest
import torch

from nodeflow.sampling.run import SampleRequest, ksample, ksampler_sigmas, sample_with_sigmas
from nodeflow.sampling.samplers import get_sampler

CASES = [
    ("euler", "normal", 1.0),
    ("euler_ancestral", "karras", 1.0),
    ("dpmpp_2m_sde", "normal", 1.0),
    ("dpm_2", "exponential", 1.0),
    ("uni_pc", "sgm_uniform", 1.0),
    ("euler_cfg_pp", "normal", 1.0),
    ("lms", "simple", 0.6),
    ("ddim", "ddim_uniform", 1.0),
    ("dpmpp_sde", "beta", 0.7),
]


def _latent(batch=1):
    return torch.zeros(batch, 4, 8, 8)


@pytest.mark.slow  # 4-10 s of CPU per case: two samplings of the tiny model
@pytest.mark.parametrize("sampler,scheduler,denoise", CASES)
def test_comfy_sample_equals_nodeflow_ksampler(loaded, conds, sampler, scheduler, denoise):
    model, _, _ = loaded
    positive, negative = conds
    start = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(3)) * 3 if denoise < 1 else _latent()
    ours = ksample(
        SampleRequest(model, positive, negative, {"samples": start}, 42, 4.0, sampler), scheduler, 4, denoise
    )["samples"]
    noise = comfy.sample.prepare_noise(start, 42)
    steps = []
    theirs = comfy.sample.sample(
        model,
        noise,
        4,
        4.0,
        sampler,
        scheduler,
        positive,
        negative,
        start,
        denoise=denoise,
        seed=42,
        callback=lambda i, x0, x, total: steps.append((i, total)),
    )
    assert torch.equal(ours, theirs), (ours - theirs).abs().max()
    assert steps and steps[0][0] == 0 and steps[-1][0] == steps[0][1] - 1


def test_advanced_steps_noise_mask_and_batch_index(loaded, conds):
    """KSamplerAdvanced's start/end steps and leftover noise, an inpainting noise mask, batch_index."""
    model, _, _ = loaded
    positive, negative = conds
    start = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    mask = torch.zeros(1, 8, 8)
    mask[:, 2:6, 2:6] = 1.0
    latent = {"samples": start, "noise_mask": mask, "batch_index": [3, 1]}
    req = SampleRequest(model, positive, negative, latent, 9, 6.0, "euler_ancestral")
    ours = ksample(req, "normal", 6, start_step=1, end_step=4, force_full_denoise=False)["samples"]
    noise = comfy.sample.prepare_noise(start, 9, latent["batch_index"])
    theirs = comfy.sample.sample(
        model,
        noise,
        6,
        6.0,
        "euler_ancestral",
        "normal",
        positive,
        negative,
        start,
        start_step=1,
        last_step=4,
        force_full_denoise=False,
        noise_mask=mask,
        seed=9,
    )
    assert torch.equal(ours, theirs)
    assert torch.equal(theirs[:, :, :2], start[:, :, :2])  # the unmasked area is kept exactly
    disabled = SampleRequest(model, positive, negative, {"samples": start}, 9, 6.0, "euler", add_noise=False)
    ours = ksample(disabled, "normal", 6, start_step=2)["samples"]
    theirs = comfy.sample.sample(
        model,
        torch.zeros_like(start),
        6,
        6.0,
        "euler",
        "normal",
        positive,
        negative,
        start,
        start_step=2,
        force_full_denoise=True,
        seed=9,
    )
    assert torch.equal(ours, theirs)


def test_ksampler_class_sigmas_and_names(loaded):
    model, _, _ = loaded
    sampler = comfy.samplers.KSampler(model, steps=5, device="cpu", sampler="dpm_2", scheduler="karras", denoise=0.5)
    assert torch.equal(sampler.sigmas, ksampler_sigmas(model, "karras", 5, 0.5, sampler_name="dpm_2"))
    assert len(comfy.samplers.KSampler.SAMPLERS) == 44 and comfy.samplers.KSampler.SAMPLERS[0] == "euler"
    assert comfy.samplers.KSampler.SCHEDULERS == comfy.samplers.SCHEDULER_NAMES
    assert (
        comfy.samplers.SCHEDULER_NAMES[:3] == ["simple", "sgm_uniform", "karras"]
        and len(comfy.samplers.SCHEDULER_NAMES) == 9
    )
    assert "ddim" not in comfy.samplers.KSAMPLER_NAMES and "uni_pc" in comfy.samplers.SAMPLER_NAMES
    ms = model.get_model_object("model_sampling")
    assert torch.equal(comfy.samplers.calculate_sigmas(ms, "normal", 7), ksampler_sigmas(model, "normal", 7))
    with pytest.raises(ValueError, match="unknown sampler 'nope'"):
        comfy.samplers.KSampler(model, 5, "cpu", sampler="nope", scheduler="normal")
    with pytest.raises(ValueError, match="unknown scheduler"):
        comfy.samplers.calculate_sigmas(ms, "nope", 5)


@pytest.mark.slow  # 9 s of CPU: samplings of the tiny model
def test_cfg_guider_and_sample_custom_equal_sampler_custom(loaded, conds):
    model, _, _ = loaded
    positive, negative = conds
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", 5)
    ours = sample_with_sigmas(
        SampleRequest(model, positive, negative, {"samples": _latent()}, 11, 3.5, "dpmpp_2s_ancestral"), sigmas
    )["samples"]
    noise = comfy.sample.prepare_noise(_latent(), 11)
    guider = comfy.samplers.CFGGuider(model)
    guider.set_conds(positive, negative)
    guider.set_cfg(3.5)
    sampler = comfy.samplers.sampler_object("dpmpp_2s_ancestral")
    assert torch.equal(guider.sample(noise, _latent(), sampler, sigmas, seed=11), ours)
    custom = comfy.sample.sample_custom(
        model, noise, 3.5, comfy.samplers.ksampler("dpmpp_2s_ancestral"), sigmas, positive, negative, _latent(), seed=11
    )
    assert torch.equal(custom, ours)
    # NodeFlow's KSamplerSelect output (a SamplerChoice) works as a pack's sampler, and a KSAMPLER in NodeFlow
    from nodeflow.nodes.sampling_nodes import SamplerChoice

    choice = SamplerChoice("dpmpp_2s_ancestral", get_sampler("dpmpp_2s_ancestral"))
    assert torch.equal(guider.sample(noise, _latent(), choice, sigmas, seed=11), ours)
    req = SampleRequest(model, positive, negative, {"samples": _latent()}, 11, 3.5, "dpmpp_2s_ancestral")
    assert torch.equal(sample_with_sigmas(req, sigmas, sampler_fn=sampler.fn)["samples"], ours)


@pytest.mark.slow  # 9 s of CPU: samplings of the tiny model
def test_guider_subclass_predict_noise_and_wrappers(loaded, conds):
    """Packs subclass CFGGuider to change guidance, and wrap outer_sample / predict_noise."""
    import comfy.patcher_extension as pe

    model, _, _ = loaded
    positive, negative = conds
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "normal", 4)
    noise = comfy.sample.prepare_noise(_latent(), 2)

    class CondOnly(comfy.samplers.CFGGuider):
        def predict_noise(self, x, timestep, model_options=None, seed=None):
            return comfy.samplers.sampling_function(
                self.inner_model, x, timestep, None, self.conds["positive"], 1.0, model_options=model_options, seed=seed
            )

    guider = CondOnly(model)
    guider.set_conds(positive, negative)
    guider.set_cfg(7.0)
    plain = ksample(SampleRequest(model, positive, negative, {"samples": _latent()}, 2, 1.0, "euler"), "normal", 4)
    assert torch.equal(
        guider.sample(noise, _latent(), comfy.samplers.ksampler("euler"), sigmas, seed=2), plain["samples"]
    )
    calls = []
    m = model.clone()

    def outer(executor, *args, **kwargs):
        calls.append("outer")
        return executor(*args, **kwargs)

    def predict(executor, x, timestep, model_options, seed):
        calls.append("predict")
        return executor.execute(x, timestep, model_options, seed)

    m.add_wrapper_with_key(pe.WrappersMP.OUTER_SAMPLE, "test", outer)
    pe.add_wrapper_with_key(pe.WrappersMP.PREDICT_NOISE, "test", predict, m.model_options, is_model_options=True)
    guider = comfy.samplers.CFGGuider(m)
    guider.set_conds(positive, negative)
    guider.set_cfg(7.0)
    guided = guider.sample(noise, _latent(), comfy.samplers.ksampler("euler"), sigmas, seed=2)
    reference = ksample(SampleRequest(model, positive, negative, {"samples": _latent()}, 2, 7.0, "euler"), "normal", 4)
    assert torch.equal(guided, reference["samples"])
    assert calls == ["outer"] + ["predict"] * 4
    assert "wrappers" not in model.model_options["transformer_options"]  # the clone's options are its own


def test_sdxl_refiner_family_through_comfy(tmp_path):
    """A family with extra conditioning (the refiner's pooled text + size/aesthetic ids): ComfyUI's
    classes for it, and comfy.sample equal to NodeFlow's KSampler."""
    import comfy.latent_formats
    import comfy.model_base
    import comfy.sd

    from nodeflow.nodes.conditioning import encode_text
    from tests.sd.tiny import write_tiny_family

    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(
        str(write_tiny_family(tmp_path / "r.safetensors", "sdxl_refiner"))
    )
    assert isinstance(model.model, comfy.model_base.SDXLRefiner)
    assert isinstance(model.model.latent_format, comfy.latent_formats.SDXL) and list(clip.tokenize("x")) == ["g"]
    positive = clip.encode_from_tokens_scheduled(clip.tokenize("a red star"), add_dict={"aesthetic_score": 6.0})
    negative = encode_text(None, clip, "", aesthetic_score=2.5)
    ours = ksample(SampleRequest(model, positive, negative, {"samples": _latent()}, 1, 5.0, "euler"), "normal", 3)
    theirs = comfy.sample.sample(
        model,
        comfy.sample.prepare_noise(_latent(), 1),
        3,
        5.0,
        "euler",
        "normal",
        positive,
        negative,
        _latent(),
        seed=1,
    )
    assert torch.equal(ours["samples"], theirs)

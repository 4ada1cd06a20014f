"""comfy_extras, comfy.hooks, comfy.controlnet and text-encoder shims without a model: schedules
(Align Your Steps from the paper's table), latent and mask helpers, model-sampling math, hook data
and conditioning helpers, control-object helpers, the V1/V3 shapes of the node classes."""

import numpy as np
import pytest
import torch

from nodeflow.comfy_compat import install

install()

import comfy.controlnet  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import comfy.hooks as hooks  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.sd1_clip import SD1ClipModel  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.sdxl_clip import SDXLClipG, SDXLClipModel, SDXLRefinerClipModel, StableCascadeClipModel  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.text_encoders.flux import FluxClipModel  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.text_encoders.sd3_clip import SD3ClipModel  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras import nodes_latent, nodes_mask  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_align_your_steps import NOISE_LEVELS, AlignYourStepsScheduler, loglinear_interp  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_custom_sampler import (  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
    DisableNoise,
    Noise_RandomNoise,
    RandomNoise,
    SplitSigmas,
    SplitSigmasDenoise,
)
from comfy_extras.nodes_gits import GITSScheduler  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_lt import LTXVAddGuide, get_noise_mask  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_model_advanced import (  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
    LCM,
    ModelSamplingDiscreteDistilled,
    ModelSamplingFlux,
    RescaleCFG,
    flux_shift,
    rescale_cfg,
)

from nodeflow.sampling.schedules import DiscreteSchedule  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path

# Table 3 of "Align Your Steps" (Sabour et al., ICML 2024)
PAPER = {
    "SD1": [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
    "SDXL": [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029],
    "SVD": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}


def test_align_your_steps_uses_the_papers_table():
    assert NOISE_LEVELS == PAPER
    for kind, table in PAPER.items():
        sigmas = AlignYourStepsScheduler().get_sigmas(kind, 10, 1.0)[0]
        assert sigmas.tolist()[:-1] == pytest.approx(table[:-1]) and sigmas[-1] == 0  # 10 steps: the table itself
    sigmas = AlignYourStepsScheduler().get_sigmas("SD1", 20, 1.0)[0]
    logs = np.log(sigmas[:-1].double().numpy())
    assert len(sigmas) == 21 and logs[0] == pytest.approx(np.log(14.615)) and sigmas[-2] > 0
    # every other point of the 20-step schedule is a table entry: log-linear interpolation in between
    assert sigmas[:-1:2].tolist() == pytest.approx(PAPER["SD1"][:-1], rel=1e-6)
    assert np.allclose(logs[1:-1:2], (logs[:-2:2] + logs[2::2]) / 2)
    tail = AlignYourStepsScheduler().get_sigmas("SDXL", 20, 0.5)[0]
    full = AlignYourStepsScheduler().get_sigmas("SDXL", 20, 1.0)[0]
    assert torch.equal(tail[:-1], full[-11:-1]) and tail[-1] == 0
    assert AlignYourStepsScheduler().get_sigmas("SD1", 10, 0.0)[0].numel() == 0
    assert loglinear_interp([8.0, 2.0], 3).tolist() == pytest.approx([8.0, 4.0, 2.0])
    assert AlignYourStepsScheduler.execute(model_type="SD1", steps=10, denoise=1.0).result[0].shape == (11,)


def test_gits_says_its_table_is_not_shipped():
    assert GITSScheduler.INPUT_TYPES()["required"]["coeff"][1]["default"] == 1.2
    with pytest.raises(ValueError, match="precomputed noise levels"):
        GITSScheduler().get_sigmas(1.2, 10, 1.0)


def test_latent_batch_and_arithmetic():
    a = {"samples": torch.zeros(2, 4, 8, 8), "batch_index": [3, 4]}
    b = {"samples": torch.ones(1, 4, 4, 4)}
    out = nodes_latent.LatentBatch().batch(a, b)[0]
    assert out["samples"].shape == (3, 4, 8, 8) and out["batch_index"] == [3, 4, 0]
    assert torch.equal(out["samples"][2], torch.ones(4, 8, 8)) and a["samples"].shape == (2, 4, 8, 8)
    s1, s2 = {"samples": torch.full((1, 4, 2, 2), 3.0)}, {"samples": torch.full((1, 4, 2, 2), 1.0)}
    assert nodes_latent.LatentAdd().op(s1, s2)[0]["samples"].unique().tolist() == [4.0]
    assert nodes_latent.LatentSubtract().op(s1, s2)[0]["samples"].unique().tolist() == [2.0]
    assert nodes_latent.LatentMultiply().op(s1, 0.5)[0]["samples"].unique().tolist() == [1.5]
    mixed = nodes_latent.LatentInterpolate().op(s1, s2, 0.25)[0]["samples"]  # same direction: lengths mix
    assert torch.allclose(mixed, torch.full((1, 4, 2, 2), 0.25 * 3 + 0.75 * 1))
    fixed = nodes_latent.LatentBatchSeedBehavior().op(
        {"samples": torch.zeros(3, 4, 2, 2), "batch_index": [5, 6, 7]}, "fixed"
    )[0]
    assert fixed["batch_index"] == [5, 5, 5]


def test_composite_pastes_with_offsets_and_masks():
    dest, src = torch.zeros(1, 1, 4, 6), torch.arange(4.0).reshape(1, 1, 2, 2) + 1
    out = nodes_mask.composite(dest.clone(), src, 8, 16, multiplier=8)  # (x, y) = (1, 2) latent pixels
    assert out[0, 0, 2:4, 1:3].tolist() == src[0, 0].tolist() and out.sum() == src.sum()
    out = nodes_mask.composite(dest.clone(), src, -1, -1, multiplier=1)  # partly outside: cut
    assert out[0, 0, 0, 0] == 4 and out.sum() == 4
    half = nodes_mask.composite(dest.clone(), src, 0, 0, mask=torch.full((2, 2), 0.5), multiplier=1)
    assert half[0, 0, :2, :2].tolist() == (src[0, 0] / 2).tolist()
    resized = nodes_mask.composite(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 2, 2), 0, 0, resize_source=True)
    assert resized.sum() == 16
    latent = nodes_mask.LatentCompositeMasked().composite(
        {"samples": torch.zeros(1, 4, 4, 4)}, {"samples": torch.ones(1, 4, 2, 2)}, 16, 16, False
    )[0]
    assert latent["samples"][0, 0, 2:, 2:].sum() == 4 and latent["samples"].sum() == 16


def test_ltx_noise_mask_and_node_shape():
    assert get_noise_mask({"samples": torch.zeros(2, 128, 5, 4, 4)}).shape == (2, 1, 5, 1, 1)
    mask = torch.rand(2, 1, 5, 1, 1)
    got = get_noise_mask({"samples": torch.zeros(2, 128, 5, 4, 4), "noise_mask": mask})
    assert torch.equal(got, mask) and got is not mask
    assert LTXVAddGuide.RETURN_TYPES == ("CONDITIONING", "CONDITIONING", "LATENT")
    with pytest.raises(NotImplementedError, match="LTX-Video"):
        LTXVAddGuide().generate()


def test_noise_objects_and_sigma_splits():
    latent = {"samples": torch.zeros(2, 4, 3, 3), "batch_index": [1, 0]}
    noise = RandomNoise().get_noise(7)[0].generate_noise(latent)
    g = torch.Generator().manual_seed(7)
    per_item = torch.cat([torch.randn((1, 4, 3, 3), generator=g) for _ in range(2)])
    assert torch.equal(noise, per_item[[1, 0]])  # items keep the noise of their batch index (as ComfyUI draws it)
    whole = torch.randn((2, 4, 3, 3), generator=torch.Generator().manual_seed(7))
    assert torch.equal(Noise_RandomNoise(7).generate_noise({"samples": torch.zeros(2, 4, 3, 3)}), whole)
    assert DisableNoise().get_noise()[0].generate_noise(latent).abs().sum() == 0
    sigmas = torch.tensor([5.0, 3.0, 2.0, 1.0, 0.0])
    high, low = SplitSigmas().get_sigmas(sigmas, 2)
    assert high.tolist() == [5.0, 3.0, 2.0] and low.tolist() == [2.0, 1.0, 0.0]
    high, low = SplitSigmasDenoise().get_sigmas(sigmas, 0.25)
    assert high.tolist() == [5.0, 3.0, 2.0, 1.0] and low.tolist() == [1.0, 0.0]


def test_distilled_sampling_and_lcm():
    sampling = ModelSamplingDiscreteDistilled()
    full = DiscreteSchedule.sd()
    assert len(sampling.sigmas) == 50 and torch.allclose(sampling.sigmas, full.sigmas[19::20])
    assert sampling.timestep(full.sigmas[[19, 39, 999]]).tolist() == [19, 39, 999]
    assert torch.allclose(sampling.sigma(torch.tensor([19.0, 999.0])), full.sigmas[[19, 999]])
    lcm = type("Sampling", (ModelSamplingDiscreteDistilled, LCM), {})()
    sigma, x, eps = torch.tensor([0.03]), torch.randn(1, 4, 2, 2), torch.randn(1, 4, 2, 2)
    t = float(lcm.timestep(sigma)) * 10
    c_skip, c_out = 0.25 / (t * t + 0.25), t / (t * t + 0.25) ** 0.5
    assert torch.allclose(lcm.calculate_denoised(sigma, eps, x), c_out * (x - eps * 0.03) + c_skip * x)


def test_rescale_cfg_math_and_flow_nodes():
    x, cond, uncond = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    args = {
        "input": x,
        "cond_denoised": cond,
        "uncond_denoised": uncond,
        "cond_scale": 5.0,
        "sigma": torch.tensor([2.0, 0.5]),
    }
    assert torch.allclose(x - rescale_cfg(args, 0.0), uncond + 5.0 * (cond - uncond), atol=1e-5)  # plain CFG
    assert torch.allclose(x - rescale_cfg({**args, "cond_scale": 1.0}, 1.0), cond, atol=1e-5)
    with pytest.raises(ValueError, match="CFG-function hook"):
        RescaleCFG().patch(object(), 0.7)

    class Patcher:  # ComfyUI's ModelPatcher API
        def clone(self):
            return self

        def set_model_sampler_cfg_function(self, fn):
            self.fn = fn

    patched = RescaleCFG().patch(Patcher(), 0.0)[0]
    assert torch.allclose(patched.fn(args), rescale_cfg(args, 0.0))
    assert flux_shift(1024, 1024, 0.5, 1.15) == pytest.approx(1.15) and flux_shift(
        256, 256, 0.5, 1.15
    ) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="cannot take a model-sampling patch"):  # Flux is supported; a non-MODEL is not
        ModelSamplingFlux().patch(object(), 1.15, 0.5, 1024, 1024)


def test_hook_groups_keyframes_and_conditioning_helpers():
    a, b = hooks.HookGroup(), hooks.HookGroup()
    a.add(hooks.WeightHook(1.0, 0.5))
    b.add(hooks.WeightHook())
    assert len(hooks.HookGroup.combine_all_hooks([None, a, b])) == 2
    assert hooks.HookGroup.combine_all_hooks([None]) is None and hooks.HookGroup.combine_all_hooks([a]) is a
    with pytest.raises(ValueError):
        hooks.HookGroup.combine_all_hooks([a], require_count=2)
    assert a.clone().hooks[0] == a.hooks[0]  # clones share identity
    kf = hooks.HookKeyframeGroup()
    kf.add(hooks.HookKeyframe(1.0, 0.5))
    kf.add(hooks.HookKeyframe(0.5, 0.0))
    kf.initialize_timesteps(type("Model", (), {"schedule": DiscreteSchedule.sd()})())
    strengths = [(kf.prepare_current_keyframe(s) and kf.strength) or kf.strength for s in (14.0, 5.0, 1.0, 0.2)]
    assert strengths == [0.5, 0.5, 1.0, 1.0]
    a.set_keyframes_on_hooks(kf)
    assert a.hooks[0].strength_clip == 0.5 * kf.strength
    pos, neg = [[torch.zeros(1, 2, 3), {"pooled_output": None}]], [[torch.ones(1, 2, 3), {}]]
    new_pos, new_neg = hooks.set_conds_props(
        [pos, neg], 0.7, "mask bounds", mask=torch.ones(4, 4), hooks=a, timesteps_range=(0.1, 0.9)
    )
    assert new_pos[0][1]["mask_strength"] == 0.7 and new_pos[0][1]["set_area_to_bounds"] is True
    assert new_neg[0][1]["start_percent"] == 0.1 and new_neg[0][1]["hooks"] is a and "hooks" not in pos[0][1]
    again = hooks.set_hooks_for_conditioning(new_pos, b)
    assert len(again[0][1]["hooks"]) == 2
    combined = hooks.set_conds_props_and_combine([pos, neg], [pos, neg], hooks=b)
    assert [len(c) for c in combined] == [2, 2] and combined[0][1][1]["hooks"] is b
    defaults = hooks.set_default_conds_and_combine([pos, neg], [pos, neg])
    assert defaults[1][1][1]["default"] is True and "default" not in defaults[1][0][1]


def test_control_objects_and_hint_broadcast():
    class Control(comfy.controlnet.ControlBase):
        def __init__(self):
            super().__init__()
            self.weights = "w"

    first = Control().set_cond_hint(torch.zeros(1, 3, 8, 8), 0.5, (0.1, 0.9))
    second = first.copy().set_previous_controlnet(first)
    assert isinstance(second, Control) and second.weights == "w" and second.strength == 0.5
    assert second.previous_controlnet is first and first.previous_controlnet is None
    hint = torch.arange(3.0)[:, None]
    assert comfy.controlnet.broadcast_image_to(hint, 4, 2).flatten().tolist() == [0, 1, 0, 1]
    assert comfy.controlnet.broadcast_image_to(hint, 6, 2).flatten().tolist() == [0, 1, 2, 0, 1, 2]
    merged = second.control_merge({"output": [torch.ones(1)]}, {"output": [torch.ones(1), torch.ones(1)]}, None)
    assert [t.item() for t in merged["output"]] == [1.5, 1.0]
    with pytest.raises(FileNotFoundError):
        comfy.controlnet.load_controlnet("/nonexistent/cn.safetensors")


def test_text_encoder_classes():
    sdxl = SDXLClipModel()
    assert (sdxl.clip_l.layer_idx, sdxl.clip_g.layer_idx) == (-2, -2) and isinstance(sdxl.clip_g, SDXLClipG)
    assert isinstance(SDXLRefinerClipModel(), SD1ClipModel) and SDXLRefinerClipModel().clip == "clip_g"
    assert StableCascadeClipModel().clip_g.layer == "hidden"
    assert SD3ClipModel(t5=False).t5xxl is None and FluxClipModel().t5xxl.special_tokens == {"end": 1, "pad": 0}
    sdxl.set_clip_options({"layer": -3})
    assert sdxl.clip_l.layer_idx == -3
    sdxl.reset_clip_options()
    assert sdxl.clip_l.layer_idx == -2

"""comfy_extras classes on real NodeFlow models (tiny SD1 checkpoints, a tiny upscaler): custom
sampling equals NodeFlow's SamplerCustom, model-sampling patches, SDXL text encoding, hooks applied
to CLIP and UNet weights, text-encoder wrappers, upscale-model nodes."""

import threading

import pytest
import torch
from spandrel.architectures.Compact import Compact

from nodeflow.comfy_compat import install

install()

from comfy_extras.nodes_clip_sdxl import CLIPTextEncodeSDXL  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_custom_sampler import (  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
    BasicGuider,
    BasicScheduler,
    CFGGuider,
    KSamplerSelect,
    RandomNoise,
    SamplerCustom,
    SamplerCustomAdvanced,
)
from comfy_extras.nodes_hooks import CreateHookLora, CreateHookModelAsLora, SetClipHooks  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy_extras.nodes_upscale_model import ImageUpscaleWithModel, UpscaleModelLoader  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path

from nodeflow.comfy_compat.encoder_models import cond_stage_model_for  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.comfy_compat.hook_weights import apply_weight_hooks  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.comfy_compat.v1_wrappers import run_builtin  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.engine.context import ExecutionContext, running  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.folders import Folders  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.models.manager import ModelManager  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.nodes.conditioning import CLIPSetLastLayer, CLIPTextEncode  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.nodes.lora_nodes import LoraLoader  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from nodeflow.nodes.sd_loaders import CheckpointLoaderSimple  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from tests.helpers.lora_files import kohya_lora  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from tests.helpers.upscaler_files import reference, write_model  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from tests.sd.tiny import write_tiny_sd1  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    env = Folders(tmp_path_factory.mktemp("base"))
    env.ensure()
    write_tiny_sd1(env.models_dir / "checkpoints" / "tiny.safetensors", seed=0)
    write_tiny_sd1(env.models_dir / "checkpoints" / "other.safetensors", seed=1)
    kohya_lora(env.models_dir / "loras" / "l.safetensors")
    context = ExecutionContext("p", "1", lambda *a: None, threading.Event(), env=env, models=ModelManager(cpu=True))
    with running(context):
        yield context


def load(name="tiny.safetensors"):
    return run_builtin(CheckpointLoaderSimple, {"ckpt_name": name})


def encode(clip, text="a red star"):
    return run_builtin(CLIPTextEncode, {"text": text, "clip": clip})[0]


@pytest.mark.slow  # 31 s of CPU: every guider/sampler pairing on the tiny model
def test_sampler_custom_advanced_equals_sampler_custom(ctx):
    model, clip, _ = load()
    pos, neg = encode(clip), encode(clip, "")
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    sampler = KSamplerSelect().get_sampler("euler")[0]
    sigmas = BasicScheduler().get_sigmas(model, "karras", 4, 1.0)[0]
    expected = SamplerCustom().sample(model, True, 5, 3.0, pos, neg, sampler, sigmas, latent)
    guider = CFGGuider().get_guider(model, pos, neg, 3.0)[0]
    got = SamplerCustomAdvanced().sample(RandomNoise().get_noise(5)[0], guider, sampler, sigmas, latent)
    assert torch.equal(got[0]["samples"], expected[0]["samples"])
    # denoised outputs are LATENTs too: euler's last step lands on its last estimate
    assert torch.allclose(got[1]["samples"], got[0]["samples"], atol=1e-5)
    assert torch.allclose(expected[1]["samples"], expected[0]["samples"], atol=1e-5)
    plain = SamplerCustom().sample(model, True, 5, 1.0, pos, neg, sampler, sigmas, latent)[0]
    basic = SamplerCustomAdvanced.execute(
        noise=RandomNoise().get_noise(5)[0],
        guider=BasicGuider().get_guider(model, pos)[0],
        sampler=sampler,
        sigmas=sigmas,
        latent_image=latent,
    )[0]
    assert torch.equal(basic["samples"], plain["samples"])
    masked = dict(latent, samples=torch.randn(1, 4, 8, 8), noise_mask=torch.zeros(1, 8, 8))
    kept = SamplerCustomAdvanced().sample(RandomNoise().get_noise(5)[0], guider, sampler, sigmas, masked)[0]
    assert torch.equal(kept["samples"], masked["samples"])  # nothing masked in: the latent comes back


def test_model_sampling_discrete_on_a_nodeflow_model(ctx):
    model = load()[0]
    v = ModelSamplingDiscrete().patch(model, "v_prediction", False)[0]
    assert v.prediction == "v" and model.prediction == "eps" and v.unet.module is model.unet.module
    zsnr = ModelSamplingDiscrete().patch(model, "eps", True)[0]
    assert zsnr.schedule.sigma_max == pytest.approx(4518.8, rel=1e-3)  # zero terminal SNR, clamped
    assert zsnr.schedule.sigma_min == pytest.approx(model.schedule.sigma_min, rel=1e-6)
    assert float(BasicScheduler().get_sigmas(zsnr, "karras", 3, 1.0)[0][0]) == pytest.approx(4518.8, rel=1e-3)
    lcm = ModelSamplingDiscrete().patch(model, "lcm", False)[0]  # through the MODEL's ComfyUI facade
    assert lcm is not model and type(lcm.get_model_object("model_sampling")).__name__ == "ModelSamplingAdvanced"
    assert model.get_model_object("model_sampling") is not lcm.get_model_object("model_sampling")


def test_sdxl_text_encode_node_and_encoder_wrapper(ctx):
    clip = load()[1]
    cond = CLIPTextEncodeSDXL().encode(clip, 1024, 768, 0, 0, 1024, 768, "a red star", "a red star")[0]
    assert torch.equal(cond[0][0], encode(clip)[0][0]) and cond[0][1]["height"] == 768
    assert CLIPTextEncodeSDXL.INPUT_TYPES()["required"]["width"][1]["default"] == 1024
    wrapper = cond_stage_model_for(clip)
    from comfy.sd1_clip import SD1ClipModel

    assert isinstance(wrapper, SD1ClipModel) and wrapper.clip_l.encoder is clip.encoders[0]
    skipped = run_builtin(CLIPSetLastLayer, {"clip": clip, "stop_at_clip_layer": -2})[0]
    wrapped_clip = clip.clone()
    cond_stage_model_for(wrapped_clip).set_clip_options({"layer": -2})  # reaches NodeFlow's encoder
    assert torch.equal(encode(wrapped_clip)[0][0], encode(skipped)[0][0])
    assert not torch.equal(encode(wrapped_clip)[0][0], encode(clip)[0][0])


def test_clip_hooks_apply_the_lora_like_lora_loader(ctx):
    model, clip, _ = load()
    hooks = CreateHookLora().create_hook("l.safetensors", 0.8, 0.6)[0]
    hooked = SetClipHooks().apply_hooks(clip, False, True, hooks)[0]
    _, lora_clip = run_builtin(
        LoraLoader,
        {"model": model, "clip": clip, "lora_name": "l.safetensors", "strength_model": 0.8, "strength_clip": 0.6},
    )
    assert torch.allclose(encode(hooked)[0][0], encode(lora_clip)[0][0], atol=1e-6)
    assert not torch.allclose(encode(hooked)[0][0], encode(clip)[0][0]) and hooked.apply_hooks_to_conds is hooks
    assert SetClipHooks().apply_hooks(clip, False, True, None)[0] is clip


def test_checkpoint_as_lora_hook_moves_weights_to_the_other_checkpoint(ctx):
    model, clip, _ = load()
    other_model, other_clip, _ = load("other.safetensors")
    other_cond = encode(other_clip)[0][0]
    hooks = CreateHookModelAsLora().create_hook("other.safetensors", 1.0, 1.0)[0]
    hooked_clip = SetClipHooks().apply_hooks(clip, False, False, hooks)[0]
    assert torch.allclose(encode(hooked_clip)[0][0], other_cond, atol=1e-5)
    hooked_model, _ = apply_weight_hooks(model, None, hooks)
    hooked_model.unet.activate()
    got = {k: v.clone() for k, v in hooked_model.unet.module.state_dict().items()}
    other_model.unet.activate()
    for key, value in other_model.unet.module.state_dict().items():
        assert torch.allclose(got[key], value, atol=1e-6), key
    model.unet.activate()  # the base clone is unpatched again
    assert not torch.allclose(model.unet.module.state_dict()["conv_in.weight"], got["conv_in.weight"])


def test_upscale_model_nodes_and_chainner_loader(ctx):
    from comfy_extras.chainner_models.model_loading import load_state_dict

    torch.manual_seed(2)
    net = Compact(num_feat=8, num_conv=2, upscale=2).eval()
    write_model(ctx.env, "tiny.safetensors", net.state_dict())
    assert "tiny.safetensors" in UpscaleModelLoader.INPUT_TYPES()["required"]["model_name"][0]
    upscaler = UpscaleModelLoader().load_model("tiny.safetensors")[0]
    image = torch.rand(1, 20, 24, 3)
    out = ImageUpscaleWithModel().upscale(upscaler, image)[0]
    assert out.shape == (1, 40, 48, 3) and torch.allclose(out, reference(net, image), atol=1e-4)
    assert UpscaleModelLoader.RETURN_TYPES == ("UPSCALE_MODEL",) and ImageUpscaleWithModel.FUNCTION == "upscale"
    assert load_state_dict(net.state_dict()).scale == 2


def test_one_sigma_table_class_serves_zero_terminal_snr():
    """comfy.model_sampling.ModelSamplingDiscrete (the facade's) takes zsnr itself, clamped as ComfyUI."""
    from comfy.model_sampling import ModelSamplingDiscrete as Table
    from comfy_extras.nodes_model_advanced import ModelSamplingDiscreteDistilled

    plain, zsnr = Table(), Table(zsnr=True)
    assert float(plain.sigma_max) == pytest.approx(14.6146, rel=1e-4)
    assert float(zsnr.sigma_max) == pytest.approx(4518.8, rel=1e-3)
    assert float(zsnr.sigma_min) == pytest.approx(float(plain.sigma_min), rel=1e-6)
    distilled = ModelSamplingDiscreteDistilled()
    assert len(distilled.sigmas) == 50 and int(distilled.timestep(distilled.sigmas[-1:])[0]) == 999

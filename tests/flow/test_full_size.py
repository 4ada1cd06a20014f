"""The full-size released key lists (SD3.5 medium and large, Flux dev and schnell, the Flux VAE, T5-XXL,
CLIP-L, CLIP-G) are recognised and convert onto their networks built on the meta device with zero
unknown and zero missing tensors; nothing is allocated."""

import pytest
import torch

from nodeflow.models.detect import detect_checkpoint
from nodeflow.models.text_towers import file_kind
from tests.flow.tiny_flow import manifest


def meta_state(keys: dict, prefix: str = "") -> dict:
    return {
        k[len(prefix) :]: torch.empty(shape, device="meta") for k, (shape, _) in keys.items() if k.startswith(prefix)
    }


def assert_exact(module: torch.nn.Module, state: dict):
    want = set(module.state_dict())
    assert set(state) - want == set(), sorted(set(state) - want)[:5]
    assert want - set(state) == set(), sorted(want - set(state))[:5]
    own = module.state_dict()
    wrong = [k for k, v in state.items() if tuple(v.shape) != tuple(own[k].shape)]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize(
    "name,family,depth", [("sd35_medium_checkpoint_keys", "sd3", 24), ("sd35_large_checkpoint_keys", "sd3", 38)]
)
def test_sd35_converts_exactly(name, family, depth):
    ref = manifest(name)
    shapes = {k: tuple(s) for k, (s, _) in {**ref["keys"], **ref["text_encoder_keys"]}.items()}
    info = detect_checkpoint(shapes)
    assert info.family.name == family and info.unet_config["num_layers"] == depth
    assert [t["tower"] for t in info.text_configs] == ["clip_l", "clip_g", "t5xxl"]
    state = info.family.to_network(meta_state(ref["keys"], "model.diffusion_model."), info.unet_config)
    with torch.device("meta"):
        module = info.family.network(info.unet_config)
    assert_exact(module, state)
    from diffusers import AutoencoderKL

    from nodeflow.models.convert_vae import vae_to_diffusers

    vae_state = vae_to_diffusers(meta_state(ref["keys"], "first_stage_model."), info.vae_config)
    with torch.device("meta"):
        vae = AutoencoderKL(**info.vae_config)
    assert_exact(vae, vae_state)


@pytest.mark.parametrize("variant,family,guidance", [("dev", "flux", True), ("schnell", "flux_schnell", False)])
def test_flux_converts_exactly(variant, family, guidance):
    ref = manifest(f"flux1_{variant}_keys")
    info = detect_checkpoint({"model.diffusion_model." + k: tuple(s) for k, (s, _) in ref["keys"].items()})
    assert info.family.name == family and info.unet_config["guidance_embeds"] is guidance
    assert info.unet_config["num_layers"] == 19 and info.unet_config["num_single_layers"] == 38
    state = info.family.to_network(meta_state(ref["keys"]), info.unet_config)
    with torch.device("meta"):
        module = info.family.network(info.unet_config)
    assert_exact(module, state)
    assert sum(v.numel() for v in state.values()) == ref["parameters"]


def test_flux_vae_converts_exactly():
    from diffusers import AutoencoderKL

    from nodeflow.models.convert_vae import vae_to_diffusers
    from nodeflow.models.detect import _vae_config

    ref = manifest("flux_ae_keys")
    config = _vae_config({k: tuple(s) for k, (s, _) in ref["keys"].items()})
    assert config["latent_channels"] == 16 and not config["use_quant_conv"]
    state = vae_to_diffusers(meta_state(ref["keys"]), config)
    with torch.device("meta"):
        vae = AutoencoderKL(**config)
    assert_exact(vae, state)


@pytest.mark.parametrize(
    "name,kind",
    [("t5xxl_encoder_keys", "t5xxl"), ("clip_l_text_encoder_keys", "clip_l"), ("clip_g_text_encoder_keys", "clip_g")],
)
def test_text_encoders_are_recognised_and_fit(name, kind):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, T5Config, T5EncoderModel

    from nodeflow.models.convert_clip import clip_l_to_hf
    from nodeflow.models.detect import _clip_l_config, clip_config_kwargs
    from nodeflow.models.t5_encoder import t5_config

    ref = manifest(name)
    shapes = {k: tuple(s) for k, (s, _) in ref["keys"].items()}
    assert file_kind(shapes) == kind
    state = meta_state(ref["keys"])
    if kind == "t5xxl":
        config = t5_config(shapes)
        assert (config["num_layers"], config["d_model"], config["num_heads"], config["d_ff"]) == (24, 4096, 64, 10240)
        with torch.device("meta"):
            module = T5EncoderModel(T5Config(**config))
        state.pop("encoder.embed_tokens.weight", None)
        want = {k for k in module.state_dict() if k != "encoder.embed_tokens.weight"}
        assert set(state) == want
        return
    projection = state.pop("text_projection.weight", None)
    cfg = _clip_l_config({k.removeprefix("text_model."): v for k, v in shapes.items()})
    with torch.device("meta"):
        module = (CLIPTextModelWithProjection if projection is not None else CLIPTextModel)(
            CLIPTextConfig(**clip_config_kwargs(cfg))
        )
    body = clip_l_to_hf(state)
    if projection is not None:
        from nodeflow.models.convert_clip import hf_text_layout

        plain, projected = hf_text_layout(False)[0], hf_text_layout(True)[0]
        body = {projected + k[len(plain) :]: v for k, v in body.items()}
        body["text_projection.weight"] = projection
    assert_exact(module, body)

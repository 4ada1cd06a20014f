"""NodeFlow's CLIP and VAE as ComfyUI's comfy.sd.CLIP / comfy.sd.VAE: tokenize + encode_from_tokens
give what NodeFlow's CLIPTextEncode gives, ComfyUI-named CLIP patches, VAE encode/decode/tiled and
a VAE built from a state dict."""

import comfy.lora
import comfy.model_patcher
import comfy.sd
import torch

from nodeflow.models.lora import apply_lora, group_lora
from nodeflow.nodes.conditioning import encode_text


def test_tokenize_and_encode_match_clip_text_encode(loaded):
    _, clip, _ = loaded
    assert isinstance(clip, comfy.sd.CLIP)
    for text in ("a red star", "a (red:1.3) star, [blue] circle", "star " * 90):
        tokens = clip.tokenize(text)
        assert list(tokens) == ["l"] and all(len(chunk) == 77 for chunk in tokens["l"])
        reference = encode_text(None, clip, text)
        scheduled = clip.encode_from_tokens_scheduled(tokens)
        assert torch.equal(scheduled[0][0], reference[0][0])
        assert torch.equal(scheduled[0][1]["pooled_output"], reference[0][1]["pooled_output"])
        cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
        assert torch.equal(cond, reference[0][0]) and torch.equal(pooled, reference[0][1]["pooled_output"])
        as_dict = clip.encode_from_tokens(tokens, return_dict=True)
        assert set(as_dict) == {"cond", "pooled_output"}
    assert len(clip.tokenize("star " * 90)["l"]) == 2
    with_ids = clip.tokenize("a red star", return_word_ids=True)
    assert len(with_ids["l"][0][1]) == 3
    assert torch.equal(clip.encode_from_tokens(with_ids), clip.encode_from_tokens(clip.tokenize("a red star")))
    extra = clip.encode_from_tokens_scheduled(clip.tokenize("x"), add_dict={"strength": 0.5})
    assert extra[0][1]["strength"] == 0.5


def test_clip_patches_clones_and_parts(loaded):
    _, clip, _ = loaded
    names = clip.get_sd()
    key = "clip_l.transformer.text_model.encoder.layers.0.mlp.fc1.weight"
    assert key in names and isinstance(clip.patcher, comfy.model_patcher.ModelPatcher)
    assert clip.cond_stage_model.clip_l.transformer is clip.encoders[0].model.module
    reference = clip.encode_from_tokens(clip.tokenize("a red star"))
    patched = clip.clone()
    assert patched.add_patches({key: (torch.ones_like(names[key]),)}, 0.05) == [key]
    assert not torch.equal(patched.encode_from_tokens(patched.tokenize("a red star")), reference)
    assert torch.equal(clip.encode_from_tokens(clip.tokenize("a red star")), reference)
    assert clip.load_model() is clip.patcher
    skipped = clip.clone()
    skipped.clip_layer(-2)
    assert skipped.layer_idx == -2 and clip.layer_idx == -1
    assert not torch.equal(skipped.encode_from_tokens(skipped.tokenize("a red star")), reference)


def test_clip_lora_through_comfy_names_matches_nodeflow(loaded):
    _, clip, _ = loaded
    module = "lora_te_text_model_encoder_layers_1_self_attn_q_proj"
    torch.manual_seed(1)
    lora = {
        f"{module}.lora_down.weight": torch.randn(2, 32) * 0.1,
        f"{module}.lora_up.weight": torch.randn(32, 2) * 0.1,
        f"{module}.alpha": torch.tensor(2.0),
    }
    _, expected_clip, _ = apply_lora(None, clip, group_lora(lora), 0.0, 0.7, "test")
    key_map = comfy.lora.model_lora_keys_clip(clip.cond_stage_model, {})
    assert key_map[module] == "clip_l.transformer.text_model.encoder.layers.1.self_attn.q_proj.weight"
    patched = clip.clone()
    patched.add_patches(comfy.lora.load_lora(lora, key_map), 0.7)
    tokens = clip.tokenize("a red star")
    assert torch.allclose(patched.encode_from_tokens(tokens), expected_clip.encode_from_tokens(tokens), atol=1e-5)


def test_vae_encode_decode_tiled_and_from_state_dict(loaded):
    _, _, vae = loaded
    assert isinstance(vae, comfy.sd.VAE) and vae.downscale_ratio == 8 and vae.latent_channels == 4
    assert vae.spacial_compression_encode() == vae.spacial_compression_decode() == 8
    assert vae.first_stage_model is vae.module and vae.upscale_ratio == 8
    image = torch.rand(1, 64, 64, 3, generator=torch.Generator().manual_seed(0))
    latent = vae.encode(image)
    assert latent.shape == (1, 4, 8, 8)
    decoded = vae.decode(latent)
    assert decoded.shape == (1, 64, 64, 3) and float(decoded.min()) >= 0 and float(decoded.max()) <= 1
    assert vae.decode_tiled(latent, tile_x=8, tile_y=8, overlap=2).shape == decoded.shape
    assert vae.encode_tiled(image, tile_x=64, tile_y=64, overlap=16).shape == latent.shape
    assert vae.vae_encode_crop_pixels(torch.rand(1, 70, 67, 3)).shape == (1, 64, 64, 3)
    rebuilt = comfy.sd.VAE(sd=vae.get_sd())
    assert isinstance(rebuilt, comfy.sd.VAE) and torch.equal(rebuilt.decode(latent), decoded)

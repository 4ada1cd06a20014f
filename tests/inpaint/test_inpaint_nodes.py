"""Inpainting nodes with a stand-in VAE whose encode is an 8x8 average (so what it saw is visible)."""

import torch

from nodeflow.nodes.inpaint_nodes import ImagePadForOutpaint, InpaintModelConditioning, VAEEncodeForInpaint


class AverageVAE:
    """encode: [B,H,W,3] -> [B,4,H/8,W/8] (RGB 8x8 means, 4th channel ones)."""

    def __init__(self):
        self.seen = []

    def encode(self, pixels):
        self.seen.append(pixels.clone())
        x = torch.nn.functional.avg_pool2d(pixels.permute(0, 3, 1, 2), 8)
        return torch.cat([x, torch.ones_like(x[:, :1])], 1)


def image(b=1, h=64, w=64, value=0.2):
    return torch.full((b, h, w, 3), value)


def test_encode_for_inpaint_greys_the_grown_mask_and_sets_noise_mask():
    mask = torch.zeros(1, 64, 64)
    mask[0, 24:40, 24:40] = 1
    vae = AverageVAE()
    latent = VAEEncodeForInpaint().run(image(), vae, mask, grow_mask_by=4)
    seen = vae.seen[0]
    assert torch.allclose(seen[0, 20:44, 20:44], torch.tensor(0.5))  # grown by 4 on each side
    assert torch.allclose(seen[0, :18], torch.tensor(0.2)) and torch.allclose(seen[0, :, :18], torch.tensor(0.2))
    assert latent["samples"].shape == (1, 4, 8, 8)
    assert latent["noise_mask"].shape == (1, 64, 64)
    assert latent["noise_mask"][0, 20:44, 20:44].min() == 1 and latent["noise_mask"][0, :19].max() == 0


def test_encode_crops_to_multiple_of_8_and_resizes_mask():
    latent = VAEEncodeForInpaint().run(image(h=70, w=81), AverageVAE(), torch.ones(1, 35, 40), 0)
    assert latent["samples"].shape == (1, 4, 8, 10)
    assert latent["noise_mask"].shape == (1, 64, 80)


def test_inpaint_model_conditioning_shapes_and_options():
    cond = [[torch.zeros(1, 77, 768), {"pooled_output": None}]]
    uncond = [[torch.zeros(1, 77, 768), {}]]
    mask = torch.zeros(2, 64, 64)
    mask[:, :32] = 1
    vae = AverageVAE()
    pos, neg, latent = InpaintModelConditioning().run(cond, uncond, vae, image(b=2), mask, True)
    for c in (pos, neg):
        options = c[0][1]
        assert options["concat_latent_image"].shape == (2, 4, 8, 8)
        assert options["concat_mask"].shape == (2, 1, 64, 64)
    assert pos[0][1]["pooled_output"] is None and "concat_mask" not in cond[0][1]  # inputs not mutated
    assert torch.allclose(vae.seen[0], image(b=2))  # the original is encoded untouched
    assert torch.allclose(vae.seen[1][:, :32], torch.tensor(0.5))  # the masked copy is greyed
    assert latent["samples"].shape == (2, 4, 8, 8) and latent["noise_mask"].shape == (2, 64, 64)
    _, _, plain = InpaintModelConditioning().run(cond, uncond, AverageVAE(), image(b=2), mask, False)
    assert "noise_mask" not in plain


def test_pad_for_outpaint_pads_grey_and_feathers_only_padded_edges():
    img = image(h=64, w=64, value=0.9)
    out, mask = ImagePadForOutpaint().run(img, left=16, top=0, right=8, bottom=0, feathering=10)
    assert out.shape == (1, 64, 88, 3) and mask.shape == (1, 64, 88)
    assert torch.allclose(out[0, :, :16], torch.tensor(0.5)) and torch.allclose(out[0, :, 16:80], torch.tensor(0.9))
    assert mask[0, :, :16].min() == 1 and mask[0, :, 80:].min() == 1
    assert mask[0, 32, 16] == 1.0 and mask[0, 32, 16 + 12] == 0  # ramp inside the left edge
    assert 0 < mask[0, 32, 16 + 5] < 1
    assert mask[0, 0, 40] == 0  # top was not padded: no feathering there
    _, plain = ImagePadForOutpaint().run(img, 0, 0, 0, 0, 0)
    assert plain.max() == 0

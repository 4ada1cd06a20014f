"""Live sampler previews: a tiny VAE (the demo pack's) decodes them itself, so they look like the
final picture; big VAEs keep the fitted linear projection (cheap at any size)."""

import random

import numpy as np
import torch

from nodeflow.demo.shapes import random_scene, render
from nodeflow.models import preview as preview_module
from nodeflow.models import vae_model
from nodeflow.models.loader import load_checkpoint
from nodeflow.models.preview import latent_preview as preview_image

from .tiny import DEMO_VAE as DEMO_CHECKPOINT


def _scene_and_latent(vae):
    scene = render(random_scene(random.Random(11), max_shapes=1), 64)
    pixels = torch.from_numpy(np.array(scene)).float()[None] / 255
    return pixels, vae.encode(pixels)


def test_small_vae_previews_look_like_the_picture():
    model, _, vae = load_checkpoint(DEMO_CHECKPOINT)
    assert model.preview_vae is vae
    pixels, latent = _scene_and_latent(vae)
    preview = torch.from_numpy(np.array(preview_image(model, latent))).float() / 255
    assert preview.shape == (64, 64, 3)
    assert (preview - pixels[0]).abs().mean() < 0.08


def test_large_vaes_use_the_linear_projection(monkeypatch):
    monkeypatch.setattr(vae_model, "PREVIEW_DECODE_MAX_PARAMS", 0)
    model, _, vae = load_checkpoint(DEMO_CHECKPOINT)
    assert model.preview_vae is None
    _, latent = _scene_and_latent(vae)
    assert preview_image(model, latent).size == (32, 32)  # 4x the 8x8 latent


def test_a_lone_unet_previews_its_own_latent_space(monkeypatch):
    import dataclasses

    monkeypatch.setattr(preview_module, "_SPACES", {})  # no checkpoint of this latent space loaded yet

    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.families_sd import SD1
    from nodeflow.models.patching import PatchedModule
    from tests.sampling.comfy_reference import ToyNetwork

    latent = torch.zeros(1, 4, 8, 8)
    latent[:, 0] = 1.0 / 0.18215 / 0.35  # red at full strength once scaled into the model's space
    lone = DiffusionModel(PatchedModule(ToyNetwork()), "sd1")
    pixels = np.array(preview_image(lone, latent))
    assert pixels.shape == (32, 32, 3) and (pixels[..., 0] == 255).all() and (pixels[..., 1] == 128).all()
    tinted = dataclasses.replace(
        SD1,
        latent_format=dataclasses.replace(
            SD1.latent_format, rgb_factors=((0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (-1, -1, -1))
        ),
    )
    dark = np.array(preview_image(DiffusionModel(PatchedModule(ToyNetwork()), tinted), latent))
    assert (dark == 0).all()  # the family's own factors (here: bias -1 = black) come before the neutral ones


def test_a_lone_unet_previews_through_the_vae_of_a_checkpoint_of_its_latent_space(monkeypatch):
    # review defect 29: the outpaint demo's inpainting UNet (no VAE of its own) showed a magenta smear
    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.patching import PatchedModule
    from tests.sampling.comfy_reference import ToyNetwork

    monkeypatch.setattr(preview_module, "_SPACES", {})
    model, _, vae = load_checkpoint(DEMO_CHECKPOINT)
    lone = DiffusionModel(PatchedModule(ToyNetwork()), model.family)
    assert getattr(lone, "preview_vae", None) is None
    pixels, latent = _scene_and_latent(vae)
    preview = torch.from_numpy(np.array(preview_image(lone, latent))).float() / 255
    assert preview.shape == (64, 64, 3)
    assert (preview - pixels[0]).abs().mean() < 0.08  # like the picture, as the checkpoint's own previews
    # another latent space is not affected
    other = DiffusionModel(PatchedModule(ToyNetwork()), "sdxl")
    assert preview_image(other, torch.zeros(1, 4, 8, 8)).size == (32, 32)

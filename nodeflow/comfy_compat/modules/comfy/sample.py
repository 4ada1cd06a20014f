"""ComfyUI's ``comfy.sample`` for custom-node packs, on NodeFlow: the entry points KSampler-style
nodes call. Returns LATENT samples (unscaled, ComfyUI's convention) on the CPU."""

from __future__ import annotations

import torch

import comfy.samplers
from nodeflow.comfy_compat import missing
from nodeflow.sampling.run import prepare_noise as _prepare_noise


def prepare_noise(latent_image: torch.Tensor, seed: int, noise_inds=None) -> torch.Tensor:
    """One ``torch.randn`` of the latent's shape from ``torch.manual_seed(seed)`` on the CPU; with
    ``noise_inds`` each item gets the noise of its index in the full batch."""
    return _prepare_noise(latent_image, seed, list(noise_inds) if noise_inds is not None else None)


def fix_empty_latent_channels(model, latent_image: torch.Tensor) -> torch.Tensor:
    """An all-zero latent made for another channel count becomes zeros with the model's channel count."""
    channels = model.get_model_object("latent_format").latent_channels
    if latent_image.shape[1] != channels and torch.count_nonzero(latent_image) == 0:
        shape = list(latent_image.shape)
        shape[1] = channels
        return torch.zeros(shape, dtype=latent_image.dtype, device=latent_image.device)
    return latent_image


def sample(
    model,
    noise,
    steps,
    cfg,
    sampler_name,
    scheduler,
    positive,
    negative,
    latent_image,
    denoise=1.0,
    disable_noise=False,
    start_step=None,
    last_step=None,
    force_full_denoise=False,
    noise_mask=None,
    sigmas=None,
    callback=None,
    disable_pbar=False,
    seed=None,
) -> torch.Tensor:
    sampler = comfy.samplers.KSampler(
        model,
        steps=steps,
        device=model.load_device,
        sampler=sampler_name,
        scheduler=scheduler,
        denoise=denoise,
        model_options=model.model_options,
    )
    samples = sampler.sample(
        noise,
        positive,
        negative,
        cfg=cfg,
        latent_image=latent_image,
        start_step=start_step,
        last_step=last_step,
        force_full_denoise=force_full_denoise,
        denoise_mask=noise_mask,
        sigmas=sigmas,
        callback=callback,
        disable_pbar=disable_pbar,
        seed=seed,
    )
    return samples.to("cpu")


def sample_custom(
    model,
    noise,
    cfg,
    sampler,
    sigmas,
    positive,
    negative,
    latent_image,
    noise_mask=None,
    callback=None,
    disable_pbar=False,
    seed=None,
) -> torch.Tensor:
    samples = comfy.samplers.sample(
        model,
        noise,
        positive,
        negative,
        cfg,
        model.load_device,
        sampler,
        sigmas,
        model_options=model.model_options,
        latent_image=latent_image,
        denoise_mask=noise_mask,
        callback=callback,
        disable_pbar=disable_pbar,
        seed=seed,
    )
    return samples.to("cpu")


__getattr__ = missing("comfy.sample")

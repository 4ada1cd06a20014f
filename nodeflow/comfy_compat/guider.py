"""``comfy.samplers`` guidance: ``CFGGuider`` (set_conds / set_cfg / sample, subclassed by packs that
override ``predict_noise``), ``sampling_function``, ``cfg_function``, ``calc_cond_batch`` and
``sample``. The structure is ComfyUI's (outer_sample -> inner_sample -> sampler.sample -> the guider
called per step -> predict_noise), with its wrapper points (outer_sample, sampler_sample,
predict_noise); every number comes from NodeFlow's own pieces (seeded noise, start point,
guidance, noise mask, samplers), so a run equals NodeFlow's KSampler node for the same inputs.
Conditioning stays in NodeFlow's CONDITIONING form (lists of [tensor, options])."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.models.comfy_facade.state import clone_model_options
from nodeflow.models.comfy_facade.wrappers import WrappersMP, run_wrapped
from nodeflow.sampling.cfg_hooks import combine_with_hooks
from nodeflow.sampling.guidance import Guider
from nodeflow.sampling.run import fix_channels, noise_mask_for, sampling_session

from .ksampler import as_ksampler


def patcher_of(model: Any) -> Any:
    """The NodeFlow MODEL behind a ComfyUI BaseModel view (or the model itself)."""
    return getattr(model, "current_patcher", model)


def as_conditioning(conds: Any) -> list | None:
    """CONDITIONING from either NodeFlow's form or ComfyUI's processed cond dicts."""
    if conds is None:
        return None
    out = []
    for entry in conds:
        if isinstance(entry, dict):
            options = {k: v for k, v in entry.items() if k not in ("cross_attn", "model_conds", "uuid")}
            out.append([entry["cross_attn"], options])
        else:
            out.append(entry)
    return out


def sampling_function(model, x, timestep, uncond, cond, cond_scale, model_options=None, seed=None) -> torch.Tensor:
    """One guided estimate at sigma ``timestep``: cond and uncond through the network, combined by
    CFG (and the MODEL's cfg functions)."""
    patcher = patcher_of(model)
    options = model_options if model_options is not None else patcher.model_options
    guider = Guider(
        patcher, as_conditioning(cond), as_conditioning(uncond), cond_scale, tuple(x.shape), model_options=options
    )
    return guider(x, timestep)


def cfg_function(
    model, cond_pred, uncond_pred, cond_scale, x, timestep, model_options=None, cond=None, uncond=None
) -> torch.Tensor:
    """Combine two estimates: the MODEL's sampler_cfg_function or plain CFG, then post-cfg functions."""
    options = dict(model_options or {})
    options.pop("sampler_pre_cfg_function", None)
    return combine_with_hooks(model, options, float(cond_scale), x, timestep, cond_pred, uncond_pred, (cond, uncond))


def calc_cond_batch(model, conds: list, x_in: torch.Tensor, timestep, model_options=None) -> list[torch.Tensor]:
    """One denoised estimate per conditioning list (zeros for None), no guidance."""
    patcher = patcher_of(model)
    out = []
    for cond in conds:
        if cond is None:
            out.append(torch.zeros_like(x_in))
            continue
        guider = Guider(
            patcher,
            as_conditioning(cond),
            None,
            1.0,
            tuple(x_in.shape),
            model_options=model_options if model_options is not None else {},
        )
        out.append(guider.predictions(x_in, timestep)[0])
    return out


class CFGGuider:
    def __init__(self, model_patcher) -> None:
        self.model_patcher = model_patcher
        self.model_options = model_patcher.model_options
        self.original_conds: dict[str, list] = {}
        self.conds: dict[str, list] = {}
        self.cfg = 1.0
        self._cached: tuple | None = None  # (key, NodeFlow Guider) for this run's predictions

    @property
    def inner_model(self) -> Any:
        """ComfyUI's BaseModel of the MODEL (packs' subclasses may set their own)."""
        return self.__dict__.get("_inner_model") or self.model_patcher.model

    @inner_model.setter
    def inner_model(self, value: Any) -> None:
        self.__dict__["_inner_model"] = value

    def set_conds(self, positive, negative) -> None:
        self.inner_set_conds({"positive": positive, "negative": negative})

    def set_cfg(self, cfg: float) -> None:
        self.cfg = float(cfg)

    def inner_set_conds(self, conds: dict) -> None:
        for key, value in conds.items():
            self.original_conds[key] = as_conditioning(value)

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.outer_predict_noise(*args, **kwargs)

    def outer_predict_noise(self, x, timestep, model_options=None, seed=None) -> torch.Tensor:
        options = model_options if model_options is not None else self.model_options
        return run_wrapped(
            WrappersMP.PREDICT_NOISE,
            self.predict_noise,
            self,
            options,
            x,
            timestep,
            options,
            seed,
            is_model_options=True,
        )

    def predict_noise(self, x, timestep, model_options=None, seed=None) -> torch.Tensor:
        """The guided denoised estimate (what ``sampling_function`` gives, with prepared conds kept per run)."""
        options = model_options if model_options is not None else self.model_options
        return self._guider(x, options)(x, timestep)

    def _guider(self, x: torch.Tensor, options: dict) -> Guider:
        key = (tuple(x.shape), id(options), self.cfg, id(self.conds.get("positive")), id(self.conds.get("negative")))
        if self._cached is None or self._cached[0] != key:
            guider = Guider(
                self.model_patcher,
                self.conds.get("positive"),
                self.conds.get("negative"),
                self.cfg,
                tuple(x.shape),
                model_options=options,
            )
            self._cached = (key, guider)
        return self._cached[1]

    @property
    def last_uncond(self) -> torch.Tensor | None:
        return self._cached[1].last_uncond if self._cached is not None else None

    def inner_sample(
        self, noise, latent_image, device, sampler, sigmas, denoise_mask, callback, disable_pbar, seed
    ) -> torch.Tensor:
        latent_image = self.inner_model.process_latent_in(latent_image)
        extra_args = {"model_options": clone_model_options(self.model_options), "seed": seed}
        samples = run_wrapped(
            WrappersMP.SAMPLER_SAMPLE,
            sampler.sample,
            sampler,
            extra_args["model_options"],
            self,
            sigmas,
            extra_args,
            callback,
            noise,
            latent_image,
            denoise_mask,
            disable_pbar,
            is_model_options=True,
        )
        return self.inner_model.process_latent_out(samples.to(torch.float32))

    def outer_sample(
        self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False, seed=None
    ) -> torch.Tensor:
        if denoise_mask is not None and tuple(denoise_mask.shape) != tuple(noise.shape):
            denoise_mask = noise_mask_for(denoise_mask, noise)
        self._cached = None
        with sampling_session(self.model_patcher):
            return self.inner_sample(
                noise,
                latent_image,
                self.model_patcher.load_device,
                sampler,
                sigmas,
                denoise_mask,
                callback,
                disable_pbar,
                seed,
            )

    def sample(
        self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False, seed=None
    ) -> torch.Tensor:
        """Denoise ``latent_image`` (a LATENT's samples) from ``noise`` over ``sigmas``; returns LATENT samples."""
        if sigmas.shape[-1] == 0:
            return latent_image
        original = fix_channels(self.model_patcher, latent_image.float())
        self.conds = {key: list(value) if value is not None else None for key, value in self.original_conds.items()}
        mask = noise_mask_for(denoise_mask, original) if denoise_mask is not None else None
        out = run_wrapped(
            WrappersMP.OUTER_SAMPLE,
            self.outer_sample,
            self,
            self.model_options,
            noise.float(),
            original,
            as_ksampler(sampler),
            sigmas.float(),
            mask,
            callback,
            disable_pbar,
            seed,
            is_model_options=True,
        )
        if mask is not None:  # the unmasked area exactly as it came in (NodeFlow's KSampler does the same)
            out = out * mask + original * (1 - mask)
        return out


def sample(
    model,
    noise,
    positive,
    negative,
    cfg,
    device,
    sampler,
    sigmas,
    model_options=None,
    latent_image=None,
    denoise_mask=None,
    callback=None,
    disable_pbar=False,
    seed=None,
) -> torch.Tensor:
    guider = CFGGuider(model)
    guider.set_conds(positive, negative)
    guider.set_cfg(cfg)
    return guider.sample(noise, latent_image, sampler, sigmas, denoise_mask, callback, disable_pbar, seed)

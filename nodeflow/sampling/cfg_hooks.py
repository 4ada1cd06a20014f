"""Classifier-free guidance through a MODEL's ComfyUI ``model_options`` functions.

ComfyUI custom nodes change guidance by putting functions in ``model_options``: a
``sampler_pre_cfg_function`` list (may rewrite the cond/uncond estimates), a ``sampler_cfg_function``
(replaces ``uncond + (cond - uncond) * cfg``; it receives and returns *noise*, ``x - denoised``) and a
``sampler_post_cfg_function`` list (rewrites the guided estimate). The argument dicts carry the keys
ComfyUI's sampler passes."""

from __future__ import annotations

import torch

CFG_HOOKS = ("sampler_cfg_function", "sampler_pre_cfg_function", "sampler_post_cfg_function")


def has_cfg_hooks(options: dict) -> bool:
    return any(key in options for key in CFG_HOOKS)


def combine_with_hooks(
    model,
    options: dict,
    cfg: float,
    x: torch.Tensor,
    sigma: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    raw: tuple,
) -> torch.Tensor:
    """The guided estimate; an unevaluated negative (cfg 1) counts as zeros, as in ComfyUI.
    ``model`` is what the functions see as args["model"] (ComfyUI's BaseModel: ``model.model``);
    ``raw`` the (positive, negative) CONDITIONING lists."""
    uncond = uncond if uncond is not None else torch.zeros_like(cond)
    for fn in options.get("sampler_pre_cfg_function", []):
        cond, uncond = fn(
            {
                "conds": list(raw),
                "conds_out": [cond, uncond],
                "cond_scale": cfg,
                "timestep": sigma,
                "input": x,
                "sigma": sigma,
                "model": model,
                "model_options": options,
            }
        )[:2]
    if "sampler_cfg_function" in options:
        result = x - options["sampler_cfg_function"](
            {
                "cond": x - cond,
                "uncond": x - uncond,
                "cond_scale": cfg,
                "timestep": sigma,
                "input": x,
                "sigma": sigma,
                "cond_denoised": cond,
                "uncond_denoised": uncond,
                "model": model,
                "model_options": options,
            }
        )
    else:
        result = uncond + (cond - uncond) * cfg
    for fn in options.get("sampler_post_cfg_function", []):
        result = fn(
            {
                "denoised": result,
                "cond": raw[0],
                "uncond": raw[1],
                "cond_scale": cfg,
                "model": model,
                "uncond_denoised": uncond,
                "cond_denoised": cond,
                "sigma": sigma,
                "model_options": options,
                "input": x,
            }
        )
    return result

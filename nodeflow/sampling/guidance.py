"""Turn a MODEL plus positive/negative CONDITIONING into the denoiser D(x, sigma) the samplers
call: input scaling, timestep lookup, eps/v prediction, conditioning areas, masks, strengths and
timestep ranges, inpainting-model concat inputs, SDXL extras, and classifier-free guidance with
cond and uncond in one batch when their shapes allow.

A MODEL's ``model_options`` (ComfyUI's, set by custom nodes) are honoured here: ``sampler_cfg_function``,
the ``sampler_pre_cfg_function`` / ``sampler_post_cfg_function`` lists, ``model_function_wrapper``,
``disable_cfg1_optimization``, ``denoise_mask_function`` and, through ``model.model.apply_model``,
the ``apply_model`` wrappers in ``transformer_options``; with none of them set the arithmetic is the
plain path below."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .cfg_hooks import combine_with_hooks, has_cfg_hooks
from .flow_schedule import noise_latent


@dataclass
class _Cond:
    context: torch.Tensor  # [1|B, T, D]
    weight: torch.Tensor  # [1|B, 1, h, w] spatial weight (area x mask x strength)
    y: dict | None
    concat: torch.Tensor | None
    sigma_range: tuple[float, float]  # active while sigma_low <= sigma <= sigma_high
    control: Any = None  # the last ControlNet / T2I-Adapter of a chain (models/control_model.py), or None


def _area_weight(options: dict, shape: tuple[int, ...]) -> torch.Tensor:
    _, _, h, w = shape
    weight = torch.zeros(1, 1, h, w)
    area = options.get("area")
    if area is not None:
        ah, aw, ay, ax = (int(v) for v in area)
        weight[:, :, ay : ay + ah, ax : ax + aw] = 1.0
    else:
        weight[:] = 1.0
    mask = options.get("mask")
    if mask is not None:
        m = mask.float()
        m = m[None] if m.dim() == 2 else m
        m = F.interpolate(m[:, None], size=(h, w), mode="bilinear", align_corners=False)
        weight = weight * m * float(options.get("mask_strength", 1.0))
    return weight * float(options.get("strength", 1.0))


def prepare_conds(model, conditioning: list, shape: tuple[int, ...]) -> list[_Cond]:
    """Resolve a CONDITIONING list against a latent of ``shape`` [B, C, h, w]."""
    if not isinstance(conditioning, list) or not conditioning:
        raise ValueError("conditioning is empty: connect a CLIP Text Encode output")
    batch, _, h, w = shape
    schedule = model.schedule
    out = []
    for entry in conditioning:
        context, options = entry[0], dict(entry[1]) if len(entry) > 1 else {}
        concat = None
        if model.in_channels > model.latent_channels:
            concat = _inpaint_concat(model, options, shape)
        start, end = float(options.get("start_percent", 0.0)), float(options.get("end_percent", 1.0))
        sigma_high = float(schedule.percent_to_sigma(start)) if start > 0 else math.inf
        sigma_low = float(schedule.percent_to_sigma(end)) if end < 1 else 0.0
        control = options.get("control")
        if control is not None:
            control.check_model(model)
        out.append(
            _Cond(
                context=context.float(),
                weight=_area_weight(options, shape),
                y=model.adm(options, batch, h * 8, w * 8),
                concat=concat,
                sigma_range=(sigma_low, sigma_high),
                control=control,
            )
        )
    return out


def controls_to_uncond(positive: list, negative: list | None) -> list | None:
    """The old Apply ControlNet node's rule (``control_apply_to_uncond``): when no negative entry
    has a control, the controls of the positive entries that cover the whole image (no area) are
    given to the negative entries without an area, in turn."""
    if not negative:
        return negative
    controls = [
        o["control"]
        for _, o in positive
        if o.get("control") is not None and "area" not in o and o.get("control_apply_to_uncond")
    ]
    whole = [i for i, (_, o) in enumerate(negative) if "area" not in o]
    if not controls or not whole or any(negative[i][1].get("control") is not None for i in whole):
        return negative
    negative = [list(entry) for entry in negative]
    for n, control in enumerate(controls):
        i = whole[n % len(whole)]
        entry = [negative[i][0], {**negative[i][1], "control": control}]
        if n < len(whole):
            negative[i] = entry
        else:
            negative.append(entry)
    return negative


def _inpaint_concat(model, options: dict, shape: tuple[int, ...]) -> torch.Tensor:
    """Mask + masked-image latent for 9-channel inpainting models (zeros = 'nothing to keep'). The
    image comes as a LATENT (unscaled) and enters the network in the model's latent space."""
    batch, _, h, w = shape
    image = options.get("concat_latent_image")
    mask = options.get("concat_mask")
    image = torch.zeros(batch, shape[1], h, w) if image is None else model.process_latent_in(image.float())
    if mask is None:
        mask = torch.ones(batch, 1, h, w)
    mask = mask.float()
    mask = mask[:, None] if mask.dim() == 3 else mask
    mask = F.interpolate(mask, size=(h, w), mode="bilinear", align_corners=False).round()
    image = F.interpolate(image.float(), size=(h, w), mode="bilinear", align_corners=False)

    def rep(t):
        return t.repeat(math.ceil(batch / t.shape[0]), 1, 1, 1)[:batch]

    return torch.cat([rep(mask), rep(image)], dim=1)


def _batch(t: torch.Tensor, batch: int) -> torch.Tensor:
    return t.repeat(math.ceil(batch / t.shape[0]), *([1] * (t.dim() - 1)))[:batch]


class Guider:
    """D(x, sigma) with classifier-free guidance: uncond + cfg * (cond - uncond).

    ``last_uncond`` holds the unconditional estimate of the latest call (the conditional one when
    no negative is evaluated), for CFG++ samplers; ``keep_uncond`` evaluates the negative even at
    cfg 1, where it is otherwise skipped."""

    def __init__(
        self,
        model,
        positive: list,
        negative: list | None,
        cfg: float,
        shape: tuple[int, ...],
        keep_uncond: bool = False,
        model_options: dict | None = None,
    ) -> None:
        self.model = model
        self.cfg = float(cfg)
        self.options = model_options if model_options is not None else (getattr(model, "model_options", None) or {})
        keep_uncond = keep_uncond or bool(self.options.get("disable_cfg1_optimization", False))
        negative = controls_to_uncond(positive, negative)
        self.raw = (positive, negative)
        self.positive = prepare_conds(model, positive, shape)
        use_negative = negative and (self.cfg != 1.0 or keep_uncond)
        self.negative = prepare_conds(model, negative, shape) if use_negative else []
        self.calls = 0
        self.last_uncond: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        results = self.predictions(x, sigma)
        self.last_uncond = results[-1]  # the cond estimate when no negative was evaluated
        if has_cfg_hooks(self.options):
            return combine_with_hooks(
                getattr(self.model, "model", self.model),
                self.options,
                self.cfg,
                x,
                sigma,
                results[0],
                results[1] if len(results) > 1 else None,
                self.raw,
            )
        if len(results) == 1:
            return results[0]
        cond, uncond = results
        return uncond + self.cfg * (cond - uncond)

    def predictions(self, x: torch.Tensor, sigma: torch.Tensor) -> list[torch.Tensor]:
        """The denoised estimate of each side: [cond] or [cond, uncond] (before guidance)."""
        self.calls += 1
        groups = [self.positive] + ([self.negative] if self.negative else [])
        s = float(sigma.reshape(-1)[0])
        active = [[c for c in g if c.sigma_range[0] <= s <= c.sigma_range[1]] or g for g in groups]
        flat = [c for g in active for c in g]
        which = [side for side, g in enumerate(active) for _ in g]  # 0 = cond, 1 = uncond (ComfyUI's cond_or_uncond)
        outs = self._run(flat, which, x, sigma)
        results, index = [], 0
        for group in active:
            first = outs[index]
            num = torch.zeros_like(x)
            den = torch.zeros_like(x[:, :1])
            for cond in group:  # conds of one side average, weighted by area x mask x strength
                weight = _batch(cond.weight, x.shape[0]).to(x)
                num += outs[index] * weight
                den += weight
                index += 1
            results.append(torch.where(den > 0, num / den.clamp_min(1e-8), first))
        return results

    def _apply(
        self,
        xs: torch.Tensor,
        sig: torch.Tensor,
        ctx: torch.Tensor,
        y: dict | None,
        concat: torch.Tensor | None,
        which: list[int],
        control: Any = None,
    ) -> torch.Tensor:
        """One batched network call: plain, or ComfyUI-style through model_function_wrapper / wrappers."""
        wrapper = self.options.get("model_function_wrapper")
        to = self.options.get("transformer_options") or {}
        if control is not None:
            control = ControlCall(control, self.model, float(sig.reshape(-1)[0]), len(which))
        # ComfyUI's model view only when a wrapper asks for it (building it reads the model's preview colours)
        view = getattr(self.model, "model", None) if wrapper is not None or to.get("wrappers") else None
        if not hasattr(view, "apply_model"):
            return denoise_with_model(self.model, xs, sig, ctx, y, concat, control)
        c = {"c_crossattn": ctx, "transformer_options": {**to, "cond_or_uncond": list(which), "sigmas": sig}}
        if concat is not None:
            c["c_concat"] = concat
        if control is not None:
            c["control"] = control
        if y is not None:
            c["y"] = y
        if wrapper is None:
            return view.apply_model(xs, sig, **c)
        return wrapper(view.apply_model, {"input": xs, "timestep": sig, "c": c, "cond_or_uncond": list(which)})

    def _run(self, conds: list[_Cond], which: list[int], x: torch.Tensor, sigma: torch.Tensor) -> list[torch.Tensor]:
        """Denoised predictions for every cond; conds whose inputs have equal shapes share a batch."""
        outs: list[torch.Tensor | None] = [None] * len(conds)
        buckets: dict[tuple, list[int]] = {}
        for i, c in enumerate(conds):
            key = (tuple(c.context.shape[1:]), c.y is None, c.concat is None, id(c.control))
            buckets.setdefault(key, []).append(i)
        batch = x.shape[0]
        for idx in buckets.values():
            xs = torch.cat([x] * len(idx))
            sig = sigma.reshape(-1).expand(batch).repeat(len(idx)) if sigma.numel() == 1 else sigma.repeat(len(idx))
            ctx = torch.cat([_batch(conds[i].context, batch) for i in idx])
            y = None
            if conds[idx[0]].y is not None:
                y = {k: torch.cat([_batch(conds[i].y[k], batch) for i in idx]) for k in conds[idx[0]].y}
            concat = (
                torch.cat([_batch(conds[i].concat, batch) for i in idx]) if conds[idx[0]].concat is not None else None
            )
            denoised = self._apply(xs, sig, ctx, y, concat, [which[i] for i in idx], conds[idx[0]].control)
            for n, i in enumerate(idx):
                outs[i] = denoised[n * batch : (n + 1) * batch]
        return outs  # type: ignore[return-value]


@dataclass
class ControlCall:
    """The control chain of one batched network call: ``(x_in, timestep, context, y)`` -> the
    residuals the UNet adds (None when no control acts at this sigma). ``parts``: how many equal
    parts (conds) the batch is made of, for fitting the hint's batch."""

    chain: Any
    model: Any
    sigma: float
    parts: int

    def __call__(self, x_in: torch.Tensor, timestep: torch.Tensor, context: torch.Tensor, y: dict | None):
        return self.chain.residuals(self.model, x_in, timestep, self.sigma, context, y, self.parts)


def denoise_with_model(
    model,
    x: torch.Tensor,
    sigma: torch.Tensor,
    context: torch.Tensor,
    y: dict | None = None,
    concat: torch.Tensor | None = None,
    control: ControlCall | None = None,
) -> torch.Tensor:
    """One network call in the sigma parameterisation: scale input, look up the timestep, and
    turn the eps, v or flow-velocity output into the denoised estimate (through a ComfyUI ModelSampling object
    patched onto the model, when there is one)."""
    extra = {"control": control} if control is not None else {}  # models without ControlNet support take none
    override = getattr(model, "sampling_override", None)
    if override is not None:
        sig = sigma.reshape(-1)
        out = model.apply(
            override.calculate_input(sig, x), override.timestep(sig).float(), context, y=y, concat=concat, **extra
        )
        return override.calculate_denoised(sig, out, x)
    schedule = model.schedule
    sig = sigma.reshape(-1, 1, 1, 1).to(x)
    if model.prediction == "flow":  # rectified flow: x goes in as it is, the network predicts a velocity
        out = model.apply(x, schedule.nearest_timestep(sigma.reshape(-1).float()), context, y=y, concat=concat)
        return x - out * sig
    c_in = 1.0 / (sig**2 + 1).sqrt()
    timestep = schedule.nearest_timestep(sigma.reshape(-1).float())
    out = model.apply(x * c_in, timestep, context, y=y, concat=concat, **extra)
    if model.prediction == "v":
        return x * (1.0 / (sig**2 + 1)) - out * sig / (sig**2 + 1).sqrt()
    return x - out * sig


DenoiseFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class NoiseMasked:
    """Inpainting by masked denoising: outside the mask the latent is held at the original,
    re-noised to the current sigma before each call and restored in the estimate. The wrapped
    denoiser's ``last_uncond`` passes through as the network gave it (ComfyUI's CFG++ samplers see
    the raw unconditional estimate too; it only matters where the mask is soft)."""

    def __init__(
        self,
        denoise: DenoiseFn,
        latent: torch.Tensor,
        noise: torch.Tensor,
        mask: torch.Tensor,
        mask_function: Callable | None = None,
        extra: dict | None = None,
        flow: bool = False,
    ) -> None:
        self.denoise, self.latent, self.noise, self.mask = denoise, latent, noise, mask
        self.mask_function, self.extra = mask_function, extra or {}  # ComfyUI's denoise_mask_function
        self.flow = flow  # re-noise as a rectified-flow model does

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        mask = self.mask
        if self.mask_function is not None:
            mask = self.mask_function(sigma, self.mask, extra_options=self.extra)
        x = x * mask + noise_latent(self.flow, sigma, self.noise, self.latent) * (1 - mask)
        return self.denoise(x, sigma) * mask + self.latent * (1 - mask)

    @property
    def last_uncond(self) -> torch.Tensor | None:
        return getattr(self.denoise, "last_uncond", None)


def with_noise_mask(
    denoise: DenoiseFn,
    latent: torch.Tensor,
    noise: torch.Tensor,
    mask: torch.Tensor,
    mask_function: Callable | None = None,
    extra: dict | None = None,
    flow: bool = False,
) -> NoiseMasked:
    """``denoise`` inpainting only where ``mask`` is 1 (see :class:`NoiseMasked`)."""
    return NoiseMasked(denoise, latent, noise, mask, mask_function, extra, flow)

"""KSampler, KSamplerAdvanced, SamplerCustom and the sampler/scheduler pickers. Each step reports
progress (where interrupts take effect) with a cheap latent->RGB preview."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nodeflow.models.preview import latent_preview
from nodeflow.sampling.run import SampleRequest, ksample, sample_with_sigmas
from nodeflow.sampling.samplers import SAMPLERS, get_sampler
from nodeflow.sampling.schedules import SCHEDULER_NAMES, sd_turbo_sigmas, split_for_denoise
from nodeflow.schema.node import Node
from nodeflow.schema.types import Boolean, Combo, Conditioning, Float, Int, Latent, Model, Output, Sampler, Sigmas

_REFERENCE = Path(__file__).resolve().parent.parent / "configs" / "sampler_order.json"
SEED_MAX = 0xFFFF_FFFF_FFFF_FFFF


def _ordered(names: list[str], reference: list[str]) -> list[str]:
    """Our names in ComfyUI's order (so combos read the same), unknown ones at the end."""
    known = [n for n in reference if n in names]
    return known + [n for n in names if n not in known]


_ORDER = json.loads(_REFERENCE.read_text())
SAMPLER_CHOICES = _ordered(list(SAMPLERS), _ORDER["samplers"])
SCHEDULER_CHOICES = _ordered(list(SCHEDULER_NAMES), _ORDER["schedulers"])


def step_callback(ctx, model):
    if ctx is None:
        return None

    def callback(step: int, x: torch.Tensor, denoised: torch.Tensor, total: int) -> None:
        # samplers work in the model's latent space; previews read LATENTs
        ctx.progress(step + 1, total, preview=lambda: latent_preview(model, model.process_latent_out(denoised)))

    return callback


@dataclass(frozen=True)
class SamplerChoice:
    """What a SAMPLER socket carries."""

    name: str
    fn: Callable


def _seed():
    return Int(
        default=0,
        min=0,
        max=SEED_MAX,
        control_after_generate=True,
        tooltip="The random seed of the starting noise: the same seed gives the same picture.",
    )


def _steps():
    return Int(default=20, min=1, max=10000, tooltip="How many denoising steps: more is slower and usually finer.")


def _cfg():
    return Float(
        default=8.0,
        min=0.0,
        max=100.0,
        step=0.1,
        round=0.01,
        tooltip="Classifier-free guidance: how strongly the prompt steers the image (too high burns it).",
    )


class KSampler(Node):
    """Denoise a latent with the model, guided by the positive and negative prompts."""

    category = "sampling"
    inputs = {
        "model": Model(tooltip="The diffusion model that denoises the latent."),
        "seed": _seed(),
        "steps": _steps(),
        "cfg": _cfg(),
        "sampler_name": Combo(choices=SAMPLER_CHOICES, tooltip="The sampling algorithm."),
        "scheduler": Combo(choices=SCHEDULER_CHOICES, tooltip="How the noise level falls from step to step."),
        "positive": Conditioning(tooltip="What the image should show (from CLIP Text Encode)."),
        "negative": Conditioning(tooltip="What the image should avoid."),
        "latent_image": Latent(tooltip="The latent to denoise: Empty Latent Image for a new picture."),
        "denoise": Float(
            default=1.0,
            min=0.0,
            max=1.0,
            step=0.01,
            tooltip="How much of the input to replace: 1 = all (text to image), lower keeps more of it.",
        ),
    }
    outputs = {"LATENT": Latent(tooltip="The denoised latent; VAE Decode turns it into an image.")}

    def run(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise):
        req = SampleRequest(model, positive, negative, latent_image, seed, cfg, sampler_name)
        return ksample(req, scheduler, steps, denoise, callback=step_callback(self.ctx, model))


class KSamplerAdvanced(Node):
    """KSampler with control over noise and the step range, for multi-pass (base + refiner) work."""

    display_name = "KSampler (Advanced)"
    category = "sampling"
    inputs = {
        "model": Model(),
        "add_noise": Combo(choices=["enable", "disable"]),
        "noise_seed": _seed(),
        "steps": _steps(),
        "cfg": _cfg(),
        "sampler_name": Combo(choices=SAMPLER_CHOICES),
        "scheduler": Combo(choices=SCHEDULER_CHOICES),
        "positive": Conditioning(),
        "negative": Conditioning(),
        "latent_image": Latent(),
        "start_at_step": Int(default=0, min=0, max=10000),
        "end_at_step": Int(default=10000, min=0, max=10000),
        "return_with_leftover_noise": Combo(choices=["disable", "enable"]),
    }
    outputs = {"LATENT": Latent()}

    def run(
        self,
        model,
        add_noise,
        noise_seed,
        steps,
        cfg,
        sampler_name,
        scheduler,
        positive,
        negative,
        latent_image,
        start_at_step,
        end_at_step,
        return_with_leftover_noise,
    ):
        req = SampleRequest(
            model, positive, negative, latent_image, noise_seed, cfg, sampler_name, add_noise=add_noise == "enable"
        )
        return ksample(
            req,
            scheduler,
            steps,
            1.0,
            start_step=start_at_step,
            end_step=end_at_step,
            force_full_denoise=return_with_leftover_noise != "enable",
            callback=step_callback(self.ctx, model),
        )


class KSamplerSelect(Node):
    """Pick a sampler for SamplerCustom."""

    category = "sampling/custom_sampling/samplers"
    inputs = {"sampler_name": Combo(choices=SAMPLER_CHOICES)}
    outputs = {"SAMPLER": Sampler()}

    def run(self, sampler_name):
        return SamplerChoice(sampler_name, get_sampler(sampler_name))


class BasicScheduler(Node):
    """The sigmas of a named schedule for the model (denoise < 1 keeps the last part)."""

    category = "sampling/custom_sampling/schedulers"
    inputs = {
        "model": Model(),
        "scheduler": Combo(choices=SCHEDULER_CHOICES),
        "steps": _steps(),
        "denoise": Float(default=1.0, min=0.0, max=1.0, step=0.01),
    }
    outputs = {"SIGMAS": Sigmas()}

    def run(self, model, scheduler, steps, denoise):
        return split_for_denoise(model.schedule, scheduler, steps, denoise)


class SDTurboScheduler(Node):
    """The sigmas SD-Turbo / SDXL-Turbo were distilled for (1-10 steps)."""

    category = "sampling/custom_sampling/schedulers"
    inputs = {
        "model": Model(),
        "steps": Int(default=1, min=1, max=10),
        "denoise": Float(default=1.0, min=0, max=1.0, step=0.01),
    }
    outputs = {"SIGMAS": Sigmas()}

    def run(self, model, steps, denoise):
        return sd_turbo_sigmas(model.schedule, steps, denoise)


class SamplerCustom(Node):
    """Sample with an explicit sampler and sigma schedule; also outputs the last denoised estimate."""

    category = "sampling/custom_sampling"
    inputs = {
        "model": Model(),
        "add_noise": Boolean(default=True),
        "noise_seed": _seed(),
        "cfg": _cfg(),
        "positive": Conditioning(),
        "negative": Conditioning(),
        "sampler": Sampler(),
        "sigmas": Sigmas(),
        "latent_image": Latent(),
    }
    outputs = {"output": Output("LATENT", "output"), "denoised_output": Output("LATENT", "denoised_output")}

    def run(self, model, add_noise, noise_seed, cfg, positive, negative, sampler, sigmas, latent_image):
        name, fn = sampler.name, sampler.fn
        last: dict = {}
        progress = step_callback(self.ctx, model)

        def callback(step, x, denoised, total):
            last["denoised"] = denoised
            if progress is not None:
                progress(step, x, denoised, total)

        req = SampleRequest(model, positive, negative, latent_image, noise_seed, cfg, name, add_noise=add_noise)
        out = sample_with_sigmas(req, torch.as_tensor(sigmas, dtype=torch.float32), callback, sampler_fn=fn)
        denoised = dict(out)
        if "denoised" in last:  # the samplers' estimate is in the model's space; LATENTs are unscaled
            denoised["samples"] = model.process_latent_out(last["denoised"])
        return out, denoised

"""A1111-style ``parameters`` text -> an equivalent txt2img API prompt.

a cat in a hat
Negative prompt: blurry
Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 42, Size: 512x768, Model: v1-5
"""

from __future__ import annotations

import re

from .errors import WorkflowError

SAMPLERS = {
    "euler a": "euler_ancestral",
    "euler": "euler",
    "heun": "heun",
    "lms": "lms",
    "dpm2": "dpm_2",
    "dpm2 a": "dpm_2_ancestral",
    "dpm++ 2s a": "dpmpp_2s_ancestral",
    "dpm++ 2m": "dpmpp_2m",
    "dpm++ sde": "dpmpp_sde",
    "dpm++ 2m sde": "dpmpp_2m_sde",
    "dpm++ 3m sde": "dpmpp_3m_sde",
    "ddim": "ddim",
    "plms": "euler",
    "unipc": "uni_pc",
    "lcm": "lcm",
    "ddpm": "ddpm",
}
SCHEDULERS = {
    "karras": "karras",
    "exponential": "exponential",
    "sgm uniform": "sgm_uniform",
    "simple": "simple",
    "beta": "beta",
    "normal": "normal",
    "uniform": "normal",
    "automatic": "normal",
}
FIELD = re.compile(r'\s*([\w \-/+]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_parameters(text: str) -> dict:
    if not isinstance(text, str) or not text.strip():
        raise WorkflowError("empty A1111 parameters text")
    lines = text.strip().split("\n")
    settings_line = lines[-1] if re.search(r"\bSteps:\s*\d+", lines[-1]) else ""
    body = lines[:-1] if settings_line else lines
    positive, negative, in_negative = [], [], False
    for line in body:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else positive).append(line)
    fields = {m.group(1).strip(): m.group(2).strip().strip('"') for m in FIELD.finditer(settings_line)}
    return {"prompt": "\n".join(positive).strip(), "negative": "\n".join(negative).strip(), **fields}


def _sampler(name: str) -> tuple[str, str]:
    lowered = name.lower().strip()
    scheduler = "normal"
    for suffix, sched in sorted(SCHEDULERS.items(), key=lambda kv: -len(kv[0])):
        if lowered.endswith(" " + suffix):
            scheduler, lowered = sched, lowered[: -len(suffix) - 1].strip()
            break
    return SAMPLERS.get(lowered, "euler"), scheduler


def _number(fields: dict, key: str, cast, default):
    try:
        return cast(fields[key])
    except (KeyError, ValueError):
        return default


def parameters_to_prompt(fields: dict) -> dict:
    sampler, scheduler = _sampler(fields.get("Sampler", "Euler"))
    if fields.get("Schedule type"):
        scheduler = SCHEDULERS.get(fields["Schedule type"].lower(), scheduler)
    width, height = 512, 512
    if re.fullmatch(r"\d+x\d+", fields.get("Size", "")):
        width, height = (int(v) for v in fields["Size"].split("x"))
    model = fields.get("Model", "model")
    if not model.endswith((".safetensors", ".ckpt")):
        model += ".safetensors"
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": model}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": fields.get("prompt", ""), "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": fields.get("negative", ""), "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": _number(fields, "Seed", int, 0),
                "steps": _number(fields, "Steps", int, 20),
                "cfg": _number(fields, "CFG scale", float, 7.0),
                "sampler_name": sampler,
                "scheduler": scheduler,
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "NodeFlow"}},
    }

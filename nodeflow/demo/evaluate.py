"""Judge the demo text-to-image checkpoint: generate held-out single-shape prompts through
NodeFlow's own loader and sampler, and let the judge name the colour and shape it sees.

    python -m nodeflow.demo.evaluate [--checkpoint nodeflow/demo/weights/checkpoints/nodeflow-demo-sd1.safetensors]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from .judge import COLOUR_NAMES, load_judge
from .plan import pack_path
from .shapes import SHAPES, caption, random_scene

CHECKPOINT = pack_path("checkpoint")
INPAINT_UNET = pack_path("inpaint_unet")
EXPANDER = pack_path("expander")
UPSCALER = pack_path("upscaler")
HELD_OUT_SEED = 999_001  # never used by a trainer


def held_out_scenes(count: int, seed: int = HELD_OUT_SEED) -> list:
    rng = random.Random(seed)
    return [random_scene(rng, max_shapes=1) for _ in range(count)]


@torch.no_grad()
def evaluate(
    checkpoint: Path = CHECKPOINT,
    count: int = 100,
    steps: int = 20,
    cfg: float = 5.0,
    sampler: str = "euler",
    scheduler: str = "normal",
    batch: int = 25,
) -> dict:
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.sampling.run import SampleRequest, ksample

    model, clip, vae = load_checkpoint(checkpoint)
    judge = load_judge(pack_path("judge"))
    scenes = held_out_scenes(count)
    empty = clip.encode("")[0]
    colour_hits = shape_hits = 0
    start = time.time()
    for first in range(0, count, batch):
        group = scenes[first : first + batch]
        conds = torch.cat([clip.encode(caption(s))[0] for s in group])
        latent = {"samples": torch.zeros(len(group), 4, 8, 8)}
        out = ksample(
            SampleRequest(model, [[conds, {}]], [[empty, {}]], latent, seed=first, cfg=cfg, sampler_name=sampler),
            scheduler,
            steps,
        )
        images = vae.decode(out["samples"]).permute(0, 3, 1, 2)
        colour_logits, shape_logits = judge(images)
        for scene, c, s in zip(group, colour_logits.argmax(1), shape_logits.argmax(1), strict=False):
            colour_hits += COLOUR_NAMES[int(c)] == scene.shapes[0].colour
            shape_hits += SHAPES[int(s)] == scene.shapes[0].kind
    return {
        "prompts": count,
        "colour_accuracy": colour_hits / count,
        "shape_accuracy": shape_hits / count,
        "steps": steps,
        "cfg": cfg,
        "sampler": sampler,
        "seconds": round(time.time() - start, 1),
    }


@torch.no_grad()
def inpaint_quality(
    unet: Path = INPAINT_UNET, count: int = 100, steps: int = 20, cfg: float = 3.0, batch: int = 25
) -> dict:
    """Recolour the main shape of held-out scenes: the judge must see the prompted colour, and the
    area outside the (grown) mask must stay close to the VAE round trip of the input."""
    import numpy as np
    import torch.nn.functional as F

    from nodeflow.models.component_files import load_unet_file
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.nodes.inpaint_nodes import InpaintModelConditioning
    from nodeflow.sampling.run import SampleRequest, ksample

    from .shapes import COLOURS, Scene, _clashes, render, shape_mask

    _, clip, vae = load_checkpoint(CHECKPOINT)  # the inpainting UNet uses the t2i model's CLIP and VAE
    model = load_unet_file(unet)
    judge = load_judge(pack_path("judge"))
    rng = random.Random(HELD_OUT_SEED + 1)
    scenes = held_out_scenes(count, HELD_OUT_SEED + 1)
    empty = clip.encode("")[0]
    hits, kept_errors = 0, []
    for first in range(0, count, batch):
        group = scenes[first : first + batch]
        targets, pixels, masks, conds = [], [], [], []
        for scene in group:
            shape = scene.shapes[0]
            colour = rng.choice([c for c in COLOURS if c != shape.colour and not _clashes(c, scene.background)])
            target = Scene((type(shape)(shape.kind, colour, shape.size, shape.position),), scene.background)
            targets.append(colour)
            pixels.append(torch.from_numpy(np.array(render(scene, 64))).float() / 255)
            m = torch.from_numpy(np.asarray(shape_mask(scene, 0)) > 0).float()[None, None]
            masks.append(F.max_pool2d(m, 9, stride=1, padding=4)[0, 0])
            conds.append(clip.encode(caption(target))[0])
        image, mask = torch.stack(pixels), torch.stack(masks)
        node = InpaintModelConditioning()
        positive, negative, latent = node.run([[torch.cat(conds), {}]], [[empty, {}]], vae, image, mask, True)
        out = ksample(SampleRequest(model, positive, negative, latent, seed=first, cfg=cfg), "normal", steps)
        result = vae.decode(out["samples"])
        round_trip = vae.decode(vae.encode(image))
        outside = (1 - mask)[..., None]
        kept_errors.append(float(((result - round_trip).abs() * outside).sum() / (outside.sum() * 3)))
        colour_logits, _ = judge(result.permute(0, 3, 1, 2))
        hits += sum(COLOUR_NAMES[int(c)] == t for c, t in zip(colour_logits.argmax(1), targets, strict=False))
    return {
        "prompts": count,
        "prompted_colour_rate": hits / count,
        "unmasked_mean_abs_error": round(float(np.mean(kept_errors)), 4),
        "steps": steps,
        "cfg": cfg,
    }


def expander_quality(folder: Path = EXPANDER, count: int = 200) -> dict:
    """Share of held-out short prompts whose greedy expansion is a valid caption of the data set
    that keeps every word of the short prompt."""
    from nodeflow.models.expander import generate, load_expander

    from .shapes import parse_caption
    from .train_expander import SYSTEM, short_prompt

    expander = load_expander(folder)
    rng = random.Random(HELD_OUT_SEED)
    good, failures = 0, []
    for _ in range(count):
        short = short_prompt(random_scene(rng, max_shapes=1), rng)
        text = generate(expander, short, seed=0, temperature=0.0, mode="instruct", instruction=SYSTEM).text
        words = set(text.replace(",", " ").split())
        if parse_caption(text) is not None and all(w in words for w in short.split()):
            good += 1
        elif len(failures) < 5:
            failures.append([short, text])
    return {"prompts": count, "valid_and_complete": good / count, "examples_of_failures": failures}


def upscaler_quality(path: Path = UPSCALER, count: int = 100) -> dict:
    """PSNR of the demo upscaler and of bicubic on held-out 256x256 renders (4x from 64x64)."""
    from nodeflow.models.upscaler import load_upscale_model

    from .train_upscaler import psnr_report

    descriptor = load_upscale_model(path)
    with torch.no_grad():
        report = psnr_report(descriptor.model.float().eval(), HELD_OUT_SEED, count)
    report["gain_db"] = round(report["psnr_model"] - report["psnr_bicubic"], 2)
    return report


def full_report(count: int = 100) -> dict:
    """Every quality figure of the pack, and the judge's own accuracy on real renders (so its
    verdicts can be trusted). Bars: colour >= 0.90, shape >= 0.70, inpainting >= 0.85, expander >= 0.95,
    upscaler >= +2 dB."""
    from .judge import accuracy

    return {
        "judge_on_real_renders": accuracy(load_judge(pack_path("judge")), HELD_OUT_SEED, 500),
        "text_to_image": evaluate(count=count),
        "inpainting": inpaint_quality(count=count),
        "prompt_expander": expander_quality(),
        "upscaler": upscaler_quality(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cfg", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(evaluate(args.checkpoint, args.count, args.steps, args.cfg)))


if __name__ == "__main__":
    main()

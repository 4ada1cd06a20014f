"""Fine-tune the demo text-to-image model into a 9-channel inpainting model (latent + mask +
masked-image latent, the SD-inpainting input layout), on the shapes data with masks over the
main shape or random rectangles. Starts from train_t2i's weights; the 5 new input channels of
conv_in start at zero, so step 0 behaves exactly like the text-to-image model.

    python -m nodeflow.demo.train_inpaint --t2i demo_build/t2i.pt --out demo_build/inpaint.pt --steps 800
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from .plan import run_command, stage_arguments
from .shapes import caption, random_scene, render, shape_mask
from .train_t2i import CHECKPOINT, default_tokenizer, load_trained_vae, save_snapshot, sd1_alphas_cumprod
from .train_vae import SD1_SCALE


def widen_conv_in(unet: UNet2DConditionModel) -> UNet2DConditionModel:
    """A copy of ``unet`` taking 9 input channels; the extra 5 start at zero."""
    config = dict(unet.config)
    config["in_channels"] = 9
    wide = UNet2DConditionModel(**config)
    state = unet.state_dict()
    weight = state["conv_in.weight"]
    state["conv_in.weight"] = torch.cat([weight, torch.zeros(weight.shape[0], 5, *weight.shape[2:])], dim=1)
    wide.load_state_dict(state)
    return wide


def inpaint_pool(vae, count: int, seed: int, batch: int = 64):
    """(latents, masked-image latents, masks at latent size, captions)."""
    rng = random.Random(seed)
    lat, masked, masks, captions = [], [], [], []
    with torch.no_grad():
        for start in range(0, count, batch):
            scenes = [random_scene(rng, max_shapes=1) for _ in range(min(batch, count - start))]
            pixels, pixel_masks = [], []
            for scene in scenes:
                pixels.append(np.asarray(render(scene, 64)))
                if rng.random() < 0.7:  # the main shape, grown a little
                    m = torch.from_numpy(np.asarray(shape_mask(scene, 0)) > 0).float()[None, None]
                    m = F.max_pool2d(m, 9, stride=1, padding=4)[0, 0]
                else:  # a random rectangle
                    m = torch.zeros(64, 64)
                    h, w = rng.randint(16, 48), rng.randint(16, 48)
                    y, x = rng.randint(0, 64 - h), rng.randint(0, 64 - w)
                    m[y : y + h, x : x + w] = 1
                pixel_masks.append(m)
            x = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float() / 127.5 - 1
            m = torch.stack(pixel_masks)[:, None]
            lat.append(vae.encode(x).latent_dist.mean * SD1_SCALE)
            masked.append(vae.encode(x * (1 - m)).latent_dist.mean * SD1_SCALE)  # masked area grey (0)
            masks.append(F.interpolate(m, size=(8, 8), mode="area").round())
            captions.extend(caption(s) for s in scenes)
    return torch.cat(lat), torch.cat(masked), torch.cat(masks), captions


def train(
    t2i: Path,
    steps: int,
    seed: int,
    out: Path,
    pool: int = 8000,
    batch: int = 64,
    vae: Path = CHECKPOINT,
    on_step: Callable[[], None] | None = None,
) -> dict:
    torch.manual_seed(seed)
    saved = torch.load(t2i, weights_only=True)
    text = CLIPTextModel(CLIPTextConfig(**saved["text_config"]))
    text.load_state_dict(saved["text"])
    base = UNet2DConditionModel(**saved["unet_config"])
    base.load_state_dict(saved["unet"])
    unet = widen_conv_in(base)
    text.requires_grad_(False).eval()
    ema = copy.deepcopy(unet).eval()
    tokenize = default_tokenizer()
    start = time.time()
    latents, masked, masks, captions = inpaint_pool(load_trained_vae(vae), pool, seed)
    with torch.no_grad():
        contexts = torch.cat(
            [text(input_ids=tokenize(captions[i : i + 256])).last_hidden_state for i in range(0, len(captions), 256)]
        )
        empty = text(input_ids=tokenize([""])).last_hidden_state
    opt = torch.optim.AdamW(unet.parameters(), lr=2e-4, weight_decay=0.01)
    ac = sd1_alphas_cumprod()
    snr = ac / (1 - ac)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(0, latents.shape[0], (batch,), generator=gen)
        x0, m, mi = latents[idx], masks[idx], masked[idx]
        context = contexts[idx].clone()
        context[torch.rand(batch, generator=gen) < 0.1] = empty[0]
        t = torch.randint(0, 1000, (batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        pred = unet(torch.cat([xt, m, mi], dim=1), t, encoder_hidden_states=context).sample
        weight = torch.clamp(snr[t], max=5.0) / snr[t]
        loss = (weight * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        if on_step is not None:  # e.g. take a freed core (train.CoreShare)
            on_step()
        with torch.no_grad():
            for pe, pl in zip(ema.parameters(), unet.parameters(), strict=False):
                pe.lerp_(pl, 0.002)
        if step % 50 == 0 or step == steps - 1:
            print(
                json.dumps({"step": step, "loss": round(loss.item(), 4), "elapsed_s": round(time.time() - start, 1)}),
                flush=True,
            )
    report = {"steps": steps, "batch": batch, "from": str(t2i), "seconds": round(time.time() - start, 1)}
    save_snapshot(out, text, ema, report, unet_config=dict(ema.config))
    return report


def arguments() -> argparse.ArgumentParser:
    parser = stage_arguments("inpaint", __doc__, Path("demo_build/inpaint.pt"))
    parser.add_argument("--t2i", type=Path, default=Path("demo_build/t2i.pt"))
    parser.add_argument("--vae", type=Path, default=CHECKPOINT, help="a packed demo checkpoint or train_vae's .pt")
    return parser


def main(argv: list[str] | None = None) -> None:
    run_command(
        arguments(), lambda a: train(a.t2i, a.steps, a.seed, a.out, pool=a.pool, batch=a.batch, vae=a.vae), argv
    )


if __name__ == "__main__":
    main()

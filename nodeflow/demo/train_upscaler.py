"""Train the demo pack's 4x GAN upscaler: a small RRDBNet (ESRGAN layout, so spandrel and
UpscaleModelLoader detect it) on the shapes data set, with L1 + a perceptual loss on the demo
judge's features + a small adversarial term from a patch discriminator, which joins for the last
fifth of the run (small weights: the bar is PSNR). The saved weights are an EMA of the generator. Seeded.

    python -m nodeflow.demo.train_upscaler --out nodeflow/demo/weights/upscale_models/nodeflow-demo-4x.safetensors
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from .judge import load_judge
from .plan import pack_path, run_command, stage_arguments
from .shapes import random_scene, render

SCALE = 4
JUDGE = pack_path("judge")


def make_model() -> nn.Module:
    from spandrel.architectures.ESRGAN import ESRGAN

    return ESRGAN(num_filters=16, num_blocks=3, scale=SCALE)


def pair(rng: random.Random, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A high-resolution render and its bicubic 1/4 downscale (uint8 HWC)."""
    hr = render(random_scene(rng), size, jitter=rng)
    lr = hr.resize((size // SCALE, size // SCALE), Image.BICUBIC)
    return np.asarray(hr), np.asarray(lr)


def pool(count: int, seed: int, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    pairs = [pair(rng, size) for _ in range(count)]
    hr = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2).contiguous()
    lr = torch.from_numpy(np.stack([p[1] for p in pairs])).permute(0, 3, 1, 2).contiguous()
    return hr, lr


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        chans = (3, width, width * 2, width * 4)
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(chans):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(chans[-1], 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def judge_features(judge, x: torch.Tensor) -> list[torch.Tensor]:
    feats = []
    for conv in judge.convs[:3]:
        x = F.max_pool2d(F.silu(conv(x)), 2)
        feats.append(x)
    return feats


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = F.mse_loss(a.clamp(0, 1), b).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


@torch.no_grad()
def psnr_report(model: nn.Module, seed: int, count: int = 64) -> dict:
    hr, lr = pool(count, seed, 256)
    hr, lr = hr.float() / 255, lr.float() / 255
    bicubic = F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0, 1)
    out = torch.cat([model(lr[i : i + 8]) for i in range(0, count, 8)])
    return {
        "held_out_images": count,
        "psnr_model": round(psnr(out, hr), 2),
        "psnr_bicubic": round(psnr(bicubic, hr), 2),
    }


def crops(
    hr_all: torch.Tensor, lr_all: torch.Tensor, idx: torch.Tensor, gen: torch.Generator, size: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops: ``size`` px of the high-resolution image and its low-resolution 1/4."""
    cells = (hr_all.shape[-1] - size) // SCALE + 1
    ys, xs = (torch.randint(0, cells, (len(idx),), generator=gen) * SCALE for _ in range(2))
    hr = torch.stack([hr_all[i, :, y : y + size, x : x + size] for i, y, x in zip(idx, ys, xs, strict=False)])
    lr = torch.stack(
        [
            lr_all[i, :, y // SCALE : (y + size) // SCALE, x // SCALE : (x + size) // SCALE]
            for i, y, x in zip(idx, ys, xs, strict=False)
        ]
    )
    return hr.float() / 255, lr.float() / 255


def train(steps: int, seed: int, out: Path, batch: int = 16, images: int = 1500, judge_path: Path = JUDGE) -> dict:
    """Pairs are rendered at 256 px and cut 4x like the held-out test (64 -> 256)."""
    import copy

    torch.manual_seed(seed)
    hr_all, lr_all = pool(images, seed)
    model, disc = make_model(), PatchDiscriminator()
    ema = copy.deepcopy(model).eval()
    judge = load_judge(judge_path).requires_grad_(False)
    opt_g = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=1e-3, betas=(0.5, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt_g, max_lr=2e-3, total_steps=steps + 1, pct_start=0.05)
    gen = torch.Generator().manual_seed(seed)
    start = time.time()
    for step in range(steps):
        idx = torch.randint(0, hr_all.shape[0], (batch,), generator=gen)
        hr, lr = crops(hr_all, lr_all, idx, gen)
        fake = model(lr)
        adversarial = step > 4 * steps // 5  # the GAN term joins once the L1 solution is in place
        if adversarial:
            d_loss = F.softplus(-disc(hr)).mean() + F.softplus(disc(fake.detach())).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        l1 = (fake - hr).abs().mean()
        perceptual = sum(
            F.l1_loss(a, b) for a, b in zip(judge_features(judge, fake), judge_features(judge, hr), strict=False)
        )
        loss = l1 + 0.01 * perceptual
        if adversarial:
            loss = loss + 2e-4 * F.softplus(-disc(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt_g.step()
        sched.step()
        with torch.no_grad():
            for pe, pl in zip(ema.parameters(), model.parameters(), strict=False):
                pe.lerp_(pl, 0.002 if step > 100 else 1.0)
        if step % 100 == 0 or step == steps - 1:
            print(
                json.dumps({"step": step, "l1": round(l1.item(), 4), "elapsed_s": round(time.time() - start, 1)}),
                flush=True,
            )
    model = ema
    report = {"steps": steps, "seconds": round(time.time() - start, 1), **psnr_report(model, seed + 1)}
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out), metadata={"nodeflow.report": json.dumps(report)})
    return report


def arguments() -> argparse.ArgumentParser:
    parser = stage_arguments("upscaler", __doc__, pack_path("upscaler"))
    parser.set_defaults(threads=1)
    return parser


def main(argv: list[str] | None = None) -> None:
    run_command(arguments(), lambda a: train(a.steps, a.seed, a.out, batch=a.batch, images=a.pool), argv)


if __name__ == "__main__":
    main()

"""Train the demo pack's text-to-image model: a small CLIP text encoder (real CLIP tokenizer)
and a cross-attention UNet, on latents of the shapes data encoded by the trained demo VAE.

    python -m nodeflow.demo.train_t2i --out demo_build/t2i.pt     # defaults: the committed plan (plan.py)

The VAE comes from the committed demo checkpoint (or, when regenerating, train_vae's ``.pt``).

eps-prediction on the SD1 discrete schedule (scaled-linear betas 0.00085..0.012, 1000 steps),
min-SNR-5 loss weighting, EMA 0.999, 10% empty captions (the CFG negative). Seeded.
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
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from .evaluate import CHECKPOINT
from .plan import run_command, stage_arguments
from .shapes import caption, random_scene, render
from .train_vae import SD1_SCALE

TEXT_CONFIG = {
    "vocab_size": 49408,
    "hidden_size": 48,
    "intermediate_size": 192,
    "num_hidden_layers": 3,
    "num_attention_heads": 1,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
    "projection_dim": 48,
}
UNET_CONFIG = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (64, 128),
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": 48,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "use_linear_projection": False,
}

LEARNING_RATE = 8e-4


def sd1_alphas_cumprod() -> torch.Tensor:
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def default_tokenizer() -> Callable[[list[str]], torch.Tensor]:
    """The CLIP tokenizer NodeFlow ships, padded SD1-style (EOS) to 77 tokens."""
    from nodeflow.models.clip_tokenizer import load_clip_tokenizer  # shipped files, no download

    tokenizer = load_clip_tokenizer()

    def tokenize(texts: list[str]) -> torch.Tensor:
        return tokenizer(texts, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids

    return tokenize


def load_trained_vae(path: Path) -> AutoencoderKL:
    """The demo VAE (float32) from a training ``.pt``, an exported diffusers-layout safetensors (config
    in its metadata) or a packed checkpoint (``first_stage_model.*``, read by NodeFlow's loader)."""
    if path.suffix == ".safetensors":
        from nodeflow.models.loader import load_vae_file

        return load_vae_file(path).module.float().eval()
    saved = torch.load(path, weights_only=True)
    vae = AutoencoderKL(**saved["config"])
    vae.load_state_dict(saved["state_dict"])
    return vae.eval()


def encode_pool(vae: AutoencoderKL, count: int, seed: int, batch: int = 64) -> tuple[torch.Tensor, list[str]]:
    rng = random.Random(seed)
    latents, captions = [], []
    with torch.no_grad():
        for start in range(0, count, batch):
            scenes = [
                random_scene(rng) if rng.random() < 0.15 else random_scene(rng, max_shapes=1)
                for _ in range(min(batch, count - start))
            ]
            pixels = np.stack([np.asarray(render(s, 64, jitter=rng)) for s in scenes])
            x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
            latents.append(vae.encode(x).latent_dist.mean * SD1_SCALE)
            captions.extend(caption(s) for s in scenes)
    return torch.cat(latents), captions


def save_snapshot(out: Path, text, unet, report: dict, unet_config: dict | None = None) -> None:
    """Write the EMA weights in the format ``pack.py`` reads (atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    torch.save(
        {
            "text_config": TEXT_CONFIG,
            "unet_config": unet_config or UNET_CONFIG,
            "text": text.state_dict(),
            "unet": unet.state_dict(),
            "report": report,
        },
        tmp,
    )
    tmp.replace(out)


def cached_pool(vae_path: Path, pool: int, seed: int, cache: Path | None) -> tuple[torch.Tensor, list[str]]:
    """The encoded training pool, reused from ``cache`` when it was made with the same settings."""
    stat = vae_path.stat()  # a retrained VAE at the same path must not reuse the old latents
    key = {"vae": str(vae_path), "vae_size": stat.st_size, "vae_mtime_ns": stat.st_mtime_ns, "pool": pool, "seed": seed}
    if cache is not None and cache.exists():
        saved = torch.load(cache, weights_only=True)
        if saved.get("key") == key:
            return saved["latents"], saved["captions"]
    latents, captions = encode_pool(load_trained_vae(vae_path), pool, seed)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"key": key, "latents": latents, "captions": captions}, cache)
    return latents, captions


def train(
    vae_path: Path,
    steps: int,
    batch: int,
    seed: int,
    pool: int,
    out: Path,
    tokenize: Callable[[list[str]], torch.Tensor],
    snapshot_every: int = 200,
    on_step: Callable[[], None] | None = None,
) -> dict:
    torch.manual_seed(seed)
    start = time.time()
    latents, captions = cached_pool(vae_path, pool, seed, out.with_name("t2i_pool.pt"))
    tokens = tokenize(captions)
    empty = tokenize([""])[0]
    print(
        json.dumps(
            {"pool": pool, "latent_std": round(float(latents.std()), 4), "encode_s": round(time.time() - start, 1)}
        ),
        flush=True,
    )

    text = CLIPTextModel(CLIPTextConfig(**TEXT_CONFIG))
    unet = UNet2DConditionModel(**UNET_CONFIG)
    ema_text, ema_unet = copy.deepcopy(text).eval(), copy.deepcopy(unet).eval()
    params = list(text.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LEARNING_RATE, total_steps=steps + 1, pct_start=0.03)
    ac = sd1_alphas_cumprod()
    snr = ac / (1 - ac)
    gen = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(0, latents.shape[0], (batch,), generator=gen)
        x0 = latents[idx]
        ids = tokens[idx].clone()
        drop = torch.rand(batch, generator=gen) < 0.1
        ids[drop] = empty
        t = torch.randint(0, 1000, (batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        context = text(input_ids=ids).last_hidden_state
        pred = unet(xt, t, encoder_hidden_states=context).sample
        weight = torch.clamp(snr[t], max=5.0) / snr[t]  # min-SNR-5 for eps prediction
        loss = (weight * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if on_step is not None:  # e.g. take a freed core (train.CoreShare)
            on_step()
        with torch.no_grad():
            for ema, live in ((ema_text, text), (ema_unet, unet)):
                for pe, pl in zip(ema.parameters(), live.parameters(), strict=False):
                    pe.lerp_(pl, 0.001 if step > 200 else 1.0)
        if step % 50 == 0 or step == steps - 1:
            print(
                json.dumps({"step": step, "loss": round(loss.item(), 4), "elapsed_s": round(time.time() - start, 1)}),
                flush=True,
            )
        if snapshot_every and step and step % snapshot_every == 0:  # a usable model even if cut short
            save_snapshot(out, ema_text, ema_unet, {"steps": step, "of": steps, "batch": batch, "partial": True})
    report = {"steps": steps, "batch": batch, "seconds": round(time.time() - start, 1)}
    save_snapshot(out, ema_text, ema_unet, report)
    return report


def arguments() -> argparse.ArgumentParser:
    parser = stage_arguments("t2i", __doc__, Path("demo_build/t2i.pt"))
    parser.add_argument("--vae", type=Path, default=CHECKPOINT, help="a packed demo checkpoint or train_vae's .pt")
    return parser


def main(argv: list[str] | None = None) -> None:
    run_command(arguments(), lambda a: train(a.vae, a.steps, a.batch, a.seed, a.pool, a.out, default_tokenizer()), argv)


if __name__ == "__main__":
    main()

"""Train the demo pack's prompt expander: a small GPT-2 with its own byte-level BPE tokenizer
that rewrites a short prompt ("red star") into a full caption of the shapes data set
("a large red star on a dark blue background, top left"). It is a chat-templated model, so
the prompt-expansion node's instruct mode drives it; saved as a Hugging Face folder.

    python -m nodeflow.demo.train_expander --out nodeflow/demo/weights/prompt_expanders/nodeflow-demo-expander
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from .plan import pack_path, run_command, stage_arguments
from .shapes import BACKGROUNDS, caption, random_scene

SPECIALS = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}<|user|>{{ m['content'] }}"
    "{% else %}<|assistant|>{{ m['content'] }}<|endoftext|>{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SYSTEM = "Rewrite the prompt as a full caption."


def short_prompt(scene, rng: random.Random) -> str:
    """Some of the main shape's words, in caption order, sometimes with background/position."""
    shape = scene.shapes[0]
    words = [w for w, keep in ((shape.size, rng.random() < 0.3), (shape.colour, rng.random() < 0.7)) if keep]
    words.append(shape.kind)
    text = " ".join(words)
    extra = rng.random()
    if extra < 0.2:
        text += f" on {scene.background}"
    elif extra < 0.5:
        text += f" {shape.position}"
    return text


def pairs(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        scene = random_scene(rng, max_shapes=1)
        result.append((short_prompt(scene, rng), caption(scene)))
    return result


def chat_text(short: str, full: str) -> str:
    return f"<|system|>{SYSTEM}<|user|>{short}<|assistant|>{full}<|endoftext|>"


def build_tokenizer(texts: list[str], folder: Path) -> PreTrainedTokenizerFast:
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts + list(BACKGROUNDS), vocab_size=400, min_frequency=1, special_tokens=SPECIALS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS[1:],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def train(out: Path, steps: int, seed: int) -> dict:
    torch.manual_seed(seed)
    data = pairs(20000, seed)
    texts = [chat_text(s, f) for s, f in data]
    tokenizer = build_tokenizer(texts, out)
    encoded = [tokenizer(t).input_ids for t in texts]
    width = max(len(e) for e in encoded)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(encoded), width), pad)
    labels = torch.full((len(encoded), width), -100)
    assistant = tokenizer.convert_tokens_to_ids("<|assistant|>")
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = torch.tensor(e)
        start = e.index(assistant) + 1  # learn only the caption (and its end token)
        labels[i, start : len(e)] = torch.tensor(e[start:])
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=96,
        n_embd=128,
        n_layer=4,
        n_head=4,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=pad,
    )
    model = GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps + 1, pct_start=0.05)
    gen = torch.Generator().manual_seed(seed)
    start_time = time.time()
    model.train()
    for step in range(steps):
        idx = torch.randint(0, ids.shape[0], (64,), generator=gen)
        loss = model(
            input_ids=ids[idx], attention_mask=(labels[idx] != -100) | (ids[idx] != pad), labels=labels[idx]
        ).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print(json.dumps({"step": step, "loss": round(loss.item(), 4)}), flush=True)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(out, safe_serialization=True)  # half the size; loaded as float32
    tokenizer.save_pretrained(out)
    return {
        "steps": steps,
        "seconds": round(time.time() - start_time, 1),
        "vocab": len(tokenizer),
        "params": sum(p.numel() for p in model.parameters()),
    }


def arguments() -> argparse.ArgumentParser:
    return stage_arguments("expander", __doc__, pack_path("expander"))


def main(argv: list[str] | None = None) -> None:
    run_command(arguments(), lambda a: train(a.out, a.steps, a.seed), argv)


if __name__ == "__main__":
    main()

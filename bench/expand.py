"""Prompt expander benchmark (prints JSON): tokens per second of our generation loop, greedy and
sampled, for a tiny random GPT-2 built here and for the demo expander when it is present, next
to a bare forward-pass loop (the floor: what the word rules and sampling cost on top).

    python bench/expand.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.models.expander import Expander, _forward_kwargs, build_prompt, generate, load_expander

DEMO = (
    Path(__file__).resolve().parent.parent
    / "nodeflow"
    / "demo"
    / "weights"
    / "prompt_expanders"
    / "nodeflow-demo-expander"
)
SPECIALS = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>"]


def build_tiny(folder: Path) -> Path:
    """A random GPT-2 (n_embd 32, 2 layers) with a byte-level BPE trained on generated captions."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    rng = random.Random(0)
    colours, shapes = ["red", "blue", "green", "yellow", "white", "black"], ["star", "circle", "square", "heart"]
    texts = [f"a {rng.choice(colours)} {rng.choice(shapes)} on a {rng.choice(colours)} background" for _ in range(400)]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=400, min_frequency=1, special_tokens=SPECIALS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token=SPECIALS[0], eos_token=SPECIALS[0], pad_token=SPECIALS[0]
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    GPT2LMHeadModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def bare_loop(expander: Expander, text: str, mode: str, tokens: int) -> float:
    """Tokens/s of forward passes with the cache and argmax only (no rules, no decoding)."""
    model = expander.model
    cache_arg, extra = _forward_kwargs(model)
    ids = torch.tensor([build_prompt(expander, text, mode, None)])
    limit = expander.max_positions() or 1 << 30
    tokens = min(tokens, limit - ids.shape[1])
    start = time.perf_counter()
    with torch.inference_mode():
        cache, seen = None, 0
        for _ in range(tokens):
            seen += ids.shape[1]
            out = model(
                input_ids=ids,
                attention_mask=torch.ones((1, seen), dtype=torch.long),
                use_cache=True,
                **{cache_arg: cache},
                **extra,
            )
            cache = getattr(out, cache_arg, None)
            ids = out.logits[:, -1:].argmax(-1)
    return tokens / (time.perf_counter() - start)


def measure(expander: Expander, text: str, mode: str, tokens: int, repeats: int, **kw) -> dict:
    """Best-of-``repeats`` tokens/s of ``generate`` (EOS can end a run early: counted tokens only)."""
    best, counts = 0.0, []
    for seed in range(repeats):
        start = time.perf_counter()
        result = generate(expander, text, seed=seed, max_new_tokens=tokens, mode=mode, **kw)
        seconds = time.perf_counter() - start
        counts.append(len(result.token_ids))
        if result.token_ids:
            best = max(best, len(result.token_ids) / seconds)
    return {"tokens_per_s": round(best, 1), "tokens": counts}


def bench(expander: Expander, text: str, mode: str, tokens: int, repeats: int) -> dict:
    generate(expander, text, seed=0, max_new_tokens=2, mode=mode)  # warm-up: builds the vocabulary index
    return {
        "mode": mode,
        "bare_forward_tokens_per_s": round(max(bare_loop(expander, text, mode, tokens) for _ in range(repeats)), 1),
        "greedy": measure(expander, text, mode, tokens, repeats, temperature=0.0),
        "sampled": measure(expander, text, mode, tokens, repeats, temperature=1.0, top_k=40, top_p=0.9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens and repeats")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokens, repeats = (32, 2) if args.quick else (128, 5)
    report: dict = {"threads": args.threads, "max_new_tokens": tokens, "repeats": repeats}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        tiny = load_expander(build_tiny(Path(tmp) / "tiny_gpt2"))
        report["tiny_gpt2"] = {
            "build_and_load_s": round(time.perf_counter() - start, 2),
            **bench(tiny, "a red star on a blue background", "continue", tokens, repeats),
        }
    if (DEMO / "model.safetensors").is_file():
        start = time.perf_counter()
        demo = load_expander(DEMO)
        report["demo_expander"] = {
            "load_s": round(time.perf_counter() - start, 2),
            **bench(demo, "red star", "instruct", tokens, repeats),
        }
    else:
        report["demo_expander"] = "absent"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

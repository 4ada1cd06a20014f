"""The CLIP tokenizer, built from the vocabulary NodeFlow ships (never downloaded)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from transformers import CLIPTokenizer

DATA = Path(__file__).resolve().parent.parent / "configs" / "clip_tokenizer.json.gz"
BOS, EOS = 49406, 49407


def load_clip_tokenizer(model_max_length: int = 77) -> CLIPTokenizer:
    """CLIP's BPE tokenizer (49,408 tokens; pads with <|endoftext|> as SD1's CLIP-L does)."""
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        data = json.load(f)
    merges = [tuple(m.split(" ")) for m in data["merges"]]
    return CLIPTokenizer(vocab=data["vocab"], merges=merges, model_max_length=model_max_length)

"""Convert CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz from the PyPI package
open-clip-torch) once into the tokenizer data NodeFlow ships: nodeflow/configs/clip_tokenizer.json.gz
holding {"vocab": {token: id}, "merges": ["a b", ...]} for transformers' CLIPTokenizer.

    pip install open-clip-torch && python tools/make_clip_tokenizer.py

The vocabulary is built the way CLIP defines it: the 256 byte symbols, the same with the
end-of-word marker, one token per merge, then <|startoftext|> and <|endoftext|> (49,408 in all).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "nodeflow" / "configs" / "clip_tokenizer.json.gz"
MERGE_COUNT = 49152 - 256 - 2


def byte_symbols() -> list[str]:
    """GPT-2/CLIP's printable stand-ins for the 256 byte values, in CLIP's vocabulary order:
    the printable bytes first (as themselves), then the other bytes mapped to 256, 257, ..."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    others = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(others))]


def main() -> None:
    import open_clip

    source = Path(os.path.dirname(open_clip.__file__)) / "bpe_simple_vocab_16e6.txt.gz"
    with gzip.open(source, "rt", encoding="utf-8") as vocab:
        lines = vocab.read().split("\n")
    merges = lines[1 : MERGE_COUNT + 1]
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(tokens)}
    assert len(vocab) == 49408, len(vocab)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump({"vocab": vocab, "merges": merges}, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(vocab)} tokens, {len(merges)} merges)")


if __name__ == "__main__":
    main()

"""The CLIP tokenizer, built from the vocabulary NodeFlow ships (never downloaded) with the ``tokenizers``
package: the same normaliser, pre-tokeniser, byte-level BPE and special tokens as transformers'
``CLIPTokenizer(vocab=..., merges=...)``, so the ids are the same, without importing transformers."""

from __future__ import annotations

import functools
import gzip
import json
import threading
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

DATA = Path(__file__).resolve().parent.parent / "configs" / "clip_tokenizer.json.gz"
BOS, EOS = 49406, 49407
BOS_TEXT, EOS_TEXT = "<|startoftext|>", "<|endoftext|>"
# CLIP's word pattern: the special tokens, English contractions, letter runs, single digits, other symbol runs
WORDS = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
PADDING = {False: None, "do_not_pad": None, True: "longest", "longest": "longest", "max_length": "max_length"}


class Encoding(dict):
    """``input_ids`` and ``attention_mask``, by key or attribute."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


_building = threading.Lock()


def _backend() -> Tokenizer:
    """The one backend tokenizer (built once; a second caller waits for the first: ``prefetch``)."""
    with _building:
        return _build()


def prefetch() -> None:
    """Build the tokenizer in a background thread (0.3-0.4 s) while the caller loads weights."""
    threading.Thread(target=_backend, name="nodeflow-clip-tokenizer", daemon=True).start()


@functools.cache
def _build() -> Tokenizer:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        data = json.load(f)
    merges = [tuple(m.split(" ")) for m in data["merges"]]
    bpe = BPE(
        vocab=data["vocab"],
        merges=merges,
        dropout=None,
        continuing_subword_prefix="",
        end_of_word_suffix="</w>",
        fuse_unk=False,
        unk_token=EOS_TEXT,
    )
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(WORDS), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in (BOS_TEXT, EOS_TEXT)])
    tok.post_processor = processors.RobertaProcessing(
        (EOS_TEXT, EOS), (BOS_TEXT, BOS), trim_offsets=False, add_prefix_space=False
    )
    return tok


class ClipTokenizer:
    """CLIP's BPE tokenizer (49,408 tokens) with the call forms NodeFlow uses of transformers' tokenizer:
    ``tok(text)`` / ``tok([texts], padding="max_length", max_length=77, truncation=True, return_tensors="pt")``,
    ``add_special_tokens=False`` for bare ids; pads with <|endoftext|> as SD1's CLIP-L does."""

    bos_token_id, eos_token_id, pad_token_id = BOS, EOS, EOS

    def __init__(self, model_max_length: int = 77) -> None:
        self.model_max_length = model_max_length
        self.backend_tokenizer = _backend()

    def __len__(self) -> int:
        return self.backend_tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        text = self.backend_tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)
        return text.replace("</w>", " ").strip()

    def __call__(
        self,
        text: str | list[str],
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
    ) -> Encoding:
        if padding not in PADDING:
            raise ValueError(f"padding={padding!r} is not supported (use True, 'longest', 'max_length' or False)")
        if truncation not in (False, True, "longest_first", "do_not_truncate"):
            raise ValueError(f"truncation={truncation!r} is not supported (use True or False)")
        if return_tensors not in (None, "pt"):
            raise ValueError(f"return_tensors={return_tensors!r} is not supported (use 'pt' or None)")
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        limit = max_length if max_length is not None else self.model_max_length
        rows = [self.encode(t, add_special_tokens) for t in texts]
        if truncation not in (False, "do_not_truncate"):
            rows = [self._truncate(r, limit, add_special_tokens) for r in rows]
        width = {"max_length": limit, "longest": max(map(len, rows), default=0), None: 0}[PADDING[padding]]
        masks = [[1] * len(r) + [0] * max(0, width - len(r)) for r in rows]
        rows = [r + [self.pad_token_id] * max(0, width - len(r)) for r in rows]
        if return_tensors == "pt":
            import torch

            return Encoding(input_ids=torch.tensor(rows), attention_mask=torch.tensor(masks))
        return (
            Encoding(input_ids=rows[0], attention_mask=masks[0])
            if single
            else Encoding(input_ids=rows, attention_mask=masks)
        )

    @staticmethod
    def _truncate(ids: list[int], limit: int, specials: bool) -> list[int]:
        if len(ids) <= limit:
            return ids
        return [*ids[: limit - 1], EOS] if specials else ids[:limit]


def load_clip_tokenizer(model_max_length: int = 77) -> ClipTokenizer:
    """CLIP's BPE tokenizer (49,408 tokens; pads with <|endoftext|> as SD1's CLIP-L does)."""
    return ClipTokenizer(model_max_length)

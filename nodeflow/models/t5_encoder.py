"""The T5-XXL v1.1 text tower of SD3 and Flux: transformers' T5EncoderModel built from a file's
shapes, its SentencePiece tokenizer (shipped in nodeflow/configs/t5_tokenizer.json.gz, Apache 2.0)
and the tower interface CLIP uses (``tokenize``, ``forward``, ``clone``). Prompt weights work as
for CLIP (each token's state is moved away from the empty prompt's by its weight); a prompt is
one sequence ending in </s>, padded with <pad> to the family's minimum length, never truncated."""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from .fp8_storage import store_fp8, stored_fp8
from .patching import PatchedModule
from .prompt_weights import parse_weights

DATA = Path(__file__).resolve().parent.parent / "configs" / "t5_tokenizer.json.gz"
T5_EOS, T5_PAD = 1, 0


@functools.lru_cache(maxsize=1)
def t5_tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_str(gzip.decompress(DATA.read_bytes()).decode("utf-8"))


def t5_config(shapes: Mapping[str, tuple[int, ...]]) -> dict:
    """T5Config arguments of an encoder-only file (transformers' names, no prefix)."""
    table = shapes.get("shared.weight") or shapes.get("encoder.embed_tokens.weight")
    bias = shapes.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")
    if table is None or bias is None:
        raise ValueError("T5: shared.weight / relative_attention_bias missing; not a T5 encoder file")
    heads = bias[1]
    blocks = {int(m.group(1)) for k in shapes if (m := re.match(r"encoder\.block\.(\d+)\.", k))}
    gated = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in shapes
    ff = shapes["encoder.block.0.layer.1.DenseReluDense." + ("wi_0" if gated else "wi") + ".weight"][0]
    return {
        "vocab_size": table[0],
        "d_model": table[1],
        "num_layers": len(blocks),
        "num_heads": heads,
        "d_kv": shapes["encoder.block.0.layer.0.SelfAttention.q.weight"][0] // heads,
        "d_ff": ff,
        "relative_attention_num_buckets": bias[0],
        "feed_forward_proj": "gated-gelu" if gated else "relu",
        "is_encoder_decoder": False,
        "use_cache": False,
        "tie_word_embeddings": False,
    }


def build_t5(state: Mapping[str, torch.Tensor], dtype: torch.dtype) -> torch.nn.Module:
    from transformers import T5Config, T5EncoderModel

    from .loader import build_module

    state = dict(state)
    if "shared.weight" not in state:
        state["shared.weight"] = state["encoder.embed_tokens.weight"]
    state.pop("encoder.embed_tokens.weight", None)  # tied to shared.weight in the module
    config = T5Config(**t5_config({k: tuple(v.shape) for k, v in state.items()}))
    storage = stored_fp8(state)  # t5xxl_fp8_* files: linears stay fp8, each computed in ``dtype`` (fp8_storage)
    module = build_module(
        lambda: T5EncoderModel(config),
        state,
        dtype if storage is None else None,
        "T5 text encoder",
        ignore_missing=("encoder.embed_tokens.weight",),
    )
    module.encoder.embed_tokens = module.shared
    if storage is not None:
        store_fp8(module, storage, dtype, widen_in_parent=(r"\.wo$",))  # T5 casts activations to wo's dtype
    return module


Token = tuple[int, float]


@dataclass
class T5Tower:
    """One T5 encoder as a CLIP tower (see module docstring)."""

    model: PatchedModule
    name: str = "t5xxl"
    min_length: int = 77
    layer: int = -1
    default_layer: int = -1

    @property
    def width(self) -> int:
        return int(self.model.module.config.d_model)

    def clone(self) -> T5Tower:
        return T5Tower(self.model.clone(), self.name, self.min_length, self.layer, self.default_layer)

    def tokenize(self, text: str, find_embedding=None) -> list[list[Token]]:
        tok = t5_tokenizer()
        tokens: list[Token] = []
        for piece, weight in parse_weights(text):
            for word in piece.split():
                tokens += [(i, weight) for i in tok.encode(word, add_special_tokens=False).ids]
        tokens.append((T5_EOS, 1.0))
        tokens += [(T5_PAD, 1.0)] * max(0, self.min_length - len(tokens))
        return [tokens]

    def empty_like(self, chunk: list[Token]) -> list[Token]:
        return [(T5_EOS, 1.0)] + [(T5_PAD, 1.0)] * (len(chunk) - 1)

    def forward(self, chunk: list[Token], device: torch.device) -> tuple[torch.Tensor, None]:
        ids = torch.tensor([[t for t, _ in chunk]], device=device)
        return self.model.module(input_ids=ids).last_hidden_state, None

"""Prompt expansion with a small local causal language model (a Hugging Face folder).

``load_expander(folder)`` loads the model and tokenizer strictly from disk (safetensors, or a
pickle .bin only when ``torch.load(weights_only=True)`` accepts it). ``generate(...)`` is our
own token-by-token loop over the model's forward with its key/value cache: seeded CPU sampling
(temperature, top-k, top-p; temperature 0 = greedy), a per-token callback for streaming,
progress and interrupts, and two modes:

- "continue": the prompt is the start of the text; the model extends it and may never repeat
  a word already present (stop words aside), decided per token from a precomputed vocabulary index.
- "instruct": the tokenizer's chat template with a system instruction; only the reply is returned.

A whitelist (set of words) limits every generated word to those words in either mode.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .expander_words import VocabIndex, WordRules, parse_whitelist

DEFAULT_INSTRUCTION = "Rewrite the prompt as a detailed image-generation prompt."
MODES = ("continue", "instruct")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "spiece.model")
Callback = Callable[[int, int, str], None]  # (tokens so far, max_new_tokens, newly committed text)


# ---------------------------------------------------------------------------------------------
# Loading


def check_folder(folder: Path) -> None:
    """Raise ValueError naming ``folder`` unless it looks like a local causal LM folder."""
    if not folder.is_dir():
        raise ValueError(f"prompt expander {folder} is not a folder; a Hugging Face model folder is expected")
    config = folder / "config.json"
    if not config.is_file():
        raise ValueError(f"prompt expander folder {folder} has no config.json; it is not a Hugging Face model folder")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"prompt expander folder {folder}: config.json is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "model_type" not in data:
        raise ValueError(f"prompt expander folder {folder}: config.json has no model_type")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ValueError(
            f"prompt expander folder {folder} has no tokenizer (expected one of {', '.join(TOKENIZER_FILES)})"
        )
    if not _weight_files(folder)[0]:
        raise ValueError(f"prompt expander folder {folder} has no weights (model.safetensors)")


def _weight_files(folder: Path) -> tuple[list[Path], bool]:
    """(weight files, are they safetensors)."""
    safe = sorted(folder.glob("model*.safetensors"))
    if safe:
        return safe, True
    return sorted(folder.glob("pytorch_model*.bin")), False


def _check_pickles(files: list[Path], folder: Path) -> None:
    """Refuse pickle weights that need more than tensors to load."""
    for path in files:
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"prompt expander folder {folder}: refusing {path.name}, a pickle that does not load "
                f"with weights_only=True ({type(exc).__name__}); convert it to model.safetensors"
            ) from None


def load_expander(folder: str | Path) -> Expander:
    """Load the model and tokenizer of a local folder; never touches the network."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder = Path(folder)
    check_folder(folder)
    files, safetensors = _weight_files(folder)
    if not safetensors:
        _check_pickles(files, folder)
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise ValueError(f"prompt expander folder {folder}: config.json is not usable ({exc})") from None
    if not _is_causal_lm(config):
        raise ValueError(
            f"prompt expander folder {folder} holds a {config.model_type!r} model, which is not a causal language model"
        )
    try:
        model, info = AutoModelForCausalLM.from_pretrained(
            folder,
            local_files_only=True,
            trust_remote_code=False,
            use_safetensors=safetensors,
            output_loading_info=True,
            dtype=torch.float32,
        )  # fp16/bf16 files: CPU matmuls want float32
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ValueError(f"prompt expander folder {folder} could not be loaded: {exc}") from None
    missing = sorted(info.get("missing_keys", ())) + sorted(info.get("mismatched_keys", ()), key=str)
    if missing:
        raise ValueError(
            f"prompt expander folder {folder}: the weights do not match config.json "
            f"({len(missing)} missing or mismatched, e.g. {missing[0]})"
        )
    model.eval()
    whitelist_file = folder / "whitelist.txt"
    whitelist = parse_whitelist(whitelist_file.read_text(encoding="utf-8")) if whitelist_file.is_file() else None
    return Expander(folder=folder, model=model, tokenizer=tokenizer, whitelist=whitelist or None)


def _is_causal_lm(config: Any) -> bool:
    from transformers import AutoModelForCausalLM

    try:
        return type(config) in AutoModelForCausalLM._model_mapping
    except Exception:
        return True


@dataclass(eq=False)
class Expander:
    """A loaded prompt expander: model, tokenizer, its folder and optional whitelist."""

    folder: Path
    model: Any
    tokenizer: Any
    whitelist: frozenset[str] | None = None
    _index: VocabIndex | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.folder.name

    def index(self, size: int) -> VocabIndex:
        if self._index is None or self._index.size != size:
            self._index = VocabIndex(self.tokenizer, size)
        return self._index

    def memory_bytes(self) -> int:
        """Size of the weights (the model manager's RAM budget counts it)."""
        return sum(t.numel() * t.element_size() for t in [*self.model.parameters(), *self.model.buffers()])

    def max_positions(self) -> int | None:
        config = self.model.config
        return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)


@dataclass
class Expansion:
    """What ``generate`` returns: ``text`` (the node's output), ``generated`` (the raw model text,
    equal to the concatenated streamed pieces), the new token ids and why generation stopped."""

    text: str
    generated: str
    token_ids: list[int]
    stop: str  # "eos" | "length" | "no_candidates"


# ---------------------------------------------------------------------------------------------
# Generation


def build_prompt(expander: Expander, text: str, mode: str, instruction: str | None) -> list[int]:
    """Token ids the model starts from."""
    tok = expander.tokenizer
    if mode == "continue":
        ids = tok(text, add_special_tokens=False).input_ids
        return ids or [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]
    if mode != "instruct":
        raise ValueError(f"unknown mode {mode!r}; use one of {list(MODES)}")
    if not getattr(tok, "chat_template", None):
        raise ValueError(f"prompt expander {expander.name} has no chat template; use mode 'continue'")
    system = (instruction or "").strip() or DEFAULT_INSTRUCTION
    try:
        rendered = tok.apply_chat_template(
            [{"role": "system", "content": system}, {"role": "user", "content": text}],
            add_generation_prompt=True,
            tokenize=False,
        )
    except Exception:
        rendered = tok.apply_chat_template(
            [{"role": "user", "content": f"{system}\n\n{text}"}], add_generation_prompt=True, tokenize=False
        )
    return tok(rendered, add_special_tokens=False).input_ids


def sample(logits: torch.Tensor, generator: torch.Generator, temperature: float, top_k: int, top_p: float) -> int:
    """One token id from 1-D float logits (already masked with -inf)."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    logits = logits / temperature
    if 0 < top_k < logits.numel():
        threshold = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < threshold, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        drop = (torch.cumsum(sorted_probs, dim=-1) - sorted_probs) > top_p
        drop[0] = False
        probs = probs.clone()
        probs[order[drop]] = 0.0
    return int(torch.multinomial(probs, 1, generator=generator))


def stop_token_ids(expander: Expander) -> set[int]:
    """End-of-sequence ids of the tokenizer and of the model's generation config."""
    ids = {expander.tokenizer.eos_token_id}
    config = getattr(expander.model, "generation_config", None)
    extra = getattr(config, "eos_token_id", None)
    ids.update(extra if isinstance(extra, (list, tuple)) else [extra])
    return {int(i) for i in ids if i is not None}


def _forward_kwargs(model: Any) -> tuple[str, dict]:
    """Name of the key/value cache argument (``cache`` in newer transformers) and extras."""
    params = inspect.signature(model.forward).parameters
    cache_arg = "cache" if "cache" in params else "past_key_values"
    return cache_arg, ({"logits_to_keep": 1} if "logits_to_keep" in params else {})


def generate(
    expander: Expander,
    text: str,
    *,
    seed: int = 0,
    max_new_tokens: int = 48,
    temperature: float = 0.7,
    top_k: int = 40,
    top_p: float = 0.9,
    mode: str = "continue",
    whitelist: Iterable[str] | None = None,
    instruction: str | None = None,
    callback: Callback | None = None,
    placement: AbstractContextManager | None = None,
) -> Expansion:
    """Expand ``text``. ``callback(step, max_new_tokens, piece)`` runs after every token (raise in it to
    interrupt); ``placement`` is a context manager that puts the model on its compute device."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {list(MODES)}")
    tok, model = expander.tokenizer, expander.model
    allowed = frozenset(w.lower() for w in whitelist) if whitelist is not None else expander.whitelist
    prompt_ids = build_prompt(expander, text, mode, instruction)
    limit = expander.max_positions()
    if limit is not None and len(prompt_ids) >= limit:
        raise ValueError(f"the prompt is {len(prompt_ids)} tokens; {expander.name} reads at most {limit}")
    budget = max(0, min(max_new_tokens, limit - len(prompt_ids) if limit else max_new_tokens))
    stop_ids = stop_token_ids(expander)
    if mode == "instruct":  # any other special token (a new turn) also ends the reply
        stop_ids |= set(tok.all_special_ids)
    rules: WordRules | None = None
    generator = torch.Generator().manual_seed(int(seed))
    cache_arg, extra = _forward_kwargs(model)
    new_ids: list[int] = []
    generated, sent, stop = "", "", "length"
    with placement or contextlib.nullcontext(), torch.inference_mode():
        device = next(model.parameters()).device
        step_input, cache = torch.tensor([prompt_ids], device=device), None
        for step in range(budget):
            seen = len(prompt_ids) + len(new_ids)
            mask = torch.ones((1, seen), dtype=torch.long, device=device)  # one unpadded sequence
            out = model(input_ids=step_input, attention_mask=mask, use_cache=True, **{cache_arg: cache}, **extra)
            cache = getattr(out, cache_arg, None)
            logits = out.logits[0, -1].float().cpu()
            if rules is None:
                index = expander.index(logits.numel()) if (mode == "continue" or allowed is not None) else None
                rules = WordRules(index, text, mode, allowed)
            forbidden = rules.forbidden(generated, stop_ids)
            if forbidden is not None:
                logits = logits.masked_fill(forbidden, float("-inf"))
            token, candidate = None, generated
            for _ in range(32):  # resample when the exact check on decoded text disagrees with the masks
                if torch.isinf(logits).all():
                    break
                choice = sample(logits, generator, temperature, top_k, top_p)
                if choice in stop_ids:
                    token = choice
                    break
                candidate = tok.decode([*new_ids, choice], skip_special_tokens=True, clean_up_tokenization_spaces=False)
                if not rules.violates(candidate):
                    token = choice
                    break
                logits[choice] = float("-inf")
            if token is None:
                stop = "no_candidates"
                break
            if token in stop_ids:
                stop = "eos"
                break
            new_ids.append(token)
            generated = candidate
            safe = rules.committed(generated, final=False)
            piece = safe[len(sent) :] if safe.startswith(sent) else ""
            sent += piece
            if callback is not None:
                callback(step + 1, max_new_tokens, piece)
            step_input = torch.tensor([[token]], device=device)
    final = rules.committed(generated, final=True) if rules is not None else generated
    if final.startswith(sent) and len(final) > len(sent):
        if callback is not None:
            callback(len(new_ids), max_new_tokens, final[len(sent) :])
        sent = final
    generated = sent
    output = text + generated if mode == "continue" else generated.strip()
    return Expansion(text=output, generated=generated, token_ids=new_ids, stop=stop)

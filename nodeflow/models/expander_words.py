"""Word constraints for prompt expansion, decided per token before sampling.

``VocabIndex`` splits every vocabulary token once into the text that continues the current word,
the whole words inside it and the word it starts, and maps words to token ids, so that each step
can forbid in a few dictionary lookups the tokens that would repeat a word or leave a whitelist.
``WordRules`` applies both to one generation and double-checks decoded text exactly.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

import torch

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "with",
        "and",
        "at",
        "to",
        "for",
        "by",
        "or",
        "from",
        "into",
        "over",
        "under",
        "its",
        "is",
    ]
)
WORD_RE = re.compile(r"[^\W_]+")
TRAILING_WORD_RE = re.compile(r"[^\W_]+$")
LEADING_WORD_RE = re.compile(r"^[^\W_]*")
PLAIN_RE = re.compile(r"^(?:[^\W_]|[ \t\n,.;:!?'()-])+$")  # what whitelist mode may write besides words


def words_of(text: str) -> list[str]:
    """Lower-cased words (runs of letters/digits) of ``text``."""
    return WORD_RE.findall(text.lower())


def parse_whitelist(text: str) -> frozenset[str]:
    """Words of a whitelist: one or more per line; lines starting with '#' are comments."""
    return frozenset(w for line in text.splitlines() if not line.lstrip().startswith("#") for w in words_of(line))


@dataclass
class TokenWords:
    """A token's text split at word boundaries: ``lead`` continues the current word, ``inner``
    are whole words inside, ``trail`` starts a new word (only when ``brk``, a non-word char)."""

    lead: str
    brk: bool
    inner: tuple[str, ...]
    trail: str


def split_token(text: str) -> TokenWords:
    text = text.lower()
    lead = LEADING_WORD_RE.match(text).group()
    rest = text[len(lead) :]
    if not rest:
        return TokenWords(lead, False, (), "")
    found = WORD_RE.findall(rest)
    trail = found[-1] if found and TRAILING_WORD_RE.search(rest) else ""
    return TokenWords(lead, True, tuple(found[:-1] if trail else found), trail)


class VocabIndex:
    """Per-tokenizer maps from words to the token ids that would produce them (built once)."""

    def __init__(self, tokenizer: Any, size: int) -> None:
        vocab = min(len(tokenizer), size)
        texts = tokenizer.batch_decode([[i] for i in range(vocab)], clean_up_tokenization_spaces=False)
        self.size = size
        self.special = torch.ones(size, dtype=torch.bool)  # never sampled (EOS is handled apart)
        self.lead_nonempty = torch.zeros(size, dtype=torch.bool)
        self.plain = torch.zeros(size, dtype=torch.bool)  # letters, digits, spaces, common punctuation
        self.tokens: list[TokenWords | None] = [None] * size
        self.start_map: dict[str, list[int]] = {}  # words a token produces after a word boundary
        self.tail_map: dict[str, list[int]] = {}  # words a token produces after its first boundary
        self.lead_cont: dict[str, list[int]] = {}  # word-only tokens by their text
        self.lead_break: dict[str, list[int]] = {}  # tokens with a boundary, by the text before it
        self.trail_map: dict[str, list[int]] = {}  # tokens with a boundary, by the word they start
        self.self_repeats: list[int] = []  # tokens that repeat a word within themselves
        specials = set(tokenizer.all_special_ids)
        for i, text in enumerate(texts):
            if i in specials or not text:
                continue
            self.special[i] = False
            tw = self.tokens[i] = split_token(text)
            self.lead_nonempty[i] = bool(tw.lead)
            self.plain[i] = bool(PLAIN_RE.match(text))
            if tw.trail:
                self.trail_map.setdefault(tw.trail, []).append(i)
            tail = [*tw.inner, tw.trail] if tw.brk else []
            for word in {w for w in [tw.lead, *tail] if w}:
                self.start_map.setdefault(word, []).append(i)
            for word in {w for w in tail if w}:
                self.tail_map.setdefault(word, []).append(i)
            (self.lead_break if tw.brk else self.lead_cont).setdefault(tw.lead, []).append(i)
            own = [w for w in [tw.lead, *tail] if w and w not in STOP_WORDS]
            if len(own) != len(set(own)):
                self.self_repeats.append(i)
        self._whitelists: dict[frozenset, tuple] = {}

    def banned_ids(self, banned: set[str], partial: str) -> set[int]:
        """Tokens that would complete, or end exactly on, a banned word given the current partial word."""
        ids: set[int] = set(self.self_repeats)
        for word in banned:
            if not partial:
                ids.update(self.start_map.get(word, ()))
                continue
            ids.update(self.tail_map.get(word, ()))
            if word.startswith(partial):
                suffix = word[len(partial) :]
                ids.update(self.lead_cont.get(suffix, ()))
                ids.update(self.lead_break.get(suffix, ()))
        return ids

    def dead_end_ids(self, allowed: frozenset[str], banned: set[str], partial: str) -> set[int]:
        """Tokens that would leave a partial word only banned whitelist words start with."""
        words = self.whitelist_tables(allowed)[0]
        dead: set[str] = set()
        for word in banned & allowed:
            for k in range(1, len(word) + 1):
                prefix = word[:k]
                if prefix in dead:
                    continue
                live = False
                for other in words[bisect.bisect_left(words, prefix) :]:
                    if not other.startswith(prefix):
                        break
                    if other not in banned:
                        live = True
                        break
                if not live:
                    dead.add(prefix)
        ids: set[int] = set()
        for prefix in dead:
            ids.update(self.trail_map.get(prefix, ()))
            if prefix.startswith(partial) and len(prefix) > len(partial):
                ids.update(self.lead_cont.get(prefix[len(partial) :], ()))
        return ids

    def whitelist_allowed(self, allowed: frozenset[str], partial: str) -> torch.Tensor:
        """Bool mask of tokens that keep every word on the way to a word in ``allowed``."""
        words, _, at_boundary, tail_ok = self.whitelist_tables(allowed)
        if not partial:
            return at_boundary
        mask = torch.zeros(self.size, dtype=torch.bool)
        leads: set[str] = set()
        suffixes: set[str] = set()
        for word in words[bisect.bisect_left(words, partial) :]:
            if not word.startswith(partial):
                break
            suffix = word[len(partial) :]
            suffixes.add(suffix)
            leads.update(suffix[:k] for k in range(1, len(suffix) + 1))
        for lead in leads:  # tokens that stay inside the word: it must remain a prefix
            ids = self.lead_cont.get(lead)
            if ids:
                mask[ids] = True
        for suffix in suffixes:  # tokens that end the word: it must be whole, the rest allowed
            ids = self.lead_break.get(suffix)
            if ids:
                mask[ids] = tail_ok[ids]
        return mask

    def whitelist_tables(self, allowed: frozenset[str]) -> tuple:
        """(sorted words, prefix set, mask allowed after a boundary, mask of tokens whose own words fit)."""
        if allowed not in self._whitelists:
            if len(self._whitelists) >= 4:
                self._whitelists.pop(next(iter(self._whitelists)))
            prefixes = {w[:k] for w in allowed for k in range(len(w) + 1)}
            at_boundary = torch.zeros(self.size, dtype=torch.bool)
            tail_ok = torch.zeros(self.size, dtype=torch.bool)
            for i, tw in enumerate(self.tokens):
                if tw is None:
                    continue
                tail_ok[i] = all(w in allowed for w in tw.inner) and tw.trail in prefixes
                if tw.brk:
                    at_boundary[i] = bool(tail_ok[i]) and (not tw.lead or tw.lead in allowed)
                else:
                    at_boundary[i] = tw.lead in prefixes
            self._whitelists[allowed] = (sorted(allowed), prefixes, at_boundary, tail_ok)
        return self._whitelists[allowed]


class WordRules:
    """The word constraints of one generation: no repeats (continue mode) and a whitelist."""

    def __init__(self, index: VocabIndex | None, prompt: str, mode: str, whitelist: frozenset[str] | None) -> None:
        self.index = index
        self.no_repeat = mode == "continue"
        self.whitelist = whitelist
        self.prompt_words = {w for w in words_of(prompt) if w not in STOP_WORDS} if self.no_repeat else set()
        self.glued = self.no_repeat and bool(TRAILING_WORD_RE.search(prompt))  # prompt ends inside a word

    @staticmethod
    def split(generated: str) -> tuple[list[str], str]:
        """(complete words, trailing partial word) of the generated text."""
        partial = TRAILING_WORD_RE.search(generated)
        head = generated[: partial.start()] if partial else generated
        return words_of(head), partial.group().lower() if partial else ""

    def forbidden(self, generated: str, stop_ids: set[int]) -> torch.Tensor | None:
        """Bool mask of forbidden token ids for the next step (None = no constraint)."""
        if self.index is None:
            return None
        complete, partial = self.split(generated)
        mask = self.index.special.clone()
        if self.no_repeat:
            banned = self.prompt_words | {w for w in complete if w not in STOP_WORDS}
            ids = self.index.banned_ids(banned, partial)
            if self.whitelist is not None:
                ids |= self.index.dead_end_ids(self.whitelist, banned, partial)
            if ids:
                mask[list(ids)] = True
            if self.glued and not generated:
                mask |= self.index.lead_nonempty
        if self.whitelist is not None:
            mask |= ~(self.index.whitelist_allowed(self.whitelist, partial) & self.index.plain)
        end = not self.may_end(generated)
        for i in stop_ids:
            if i < mask.numel():
                mask[i] = end
        return mask

    def may_end(self, generated: str) -> bool:
        _, partial = self.split(generated)
        return self.whitelist is None or not partial or partial in self.whitelist

    def violates(self, generated: str) -> bool:
        """The exact check on decoded text, behind the precomputed masks."""
        complete, partial = self.split(generated)
        if self.whitelist is not None:
            if any(w not in self.whitelist for w in complete):
                return True
            if partial and partial not in self.index.whitelist_tables(self.whitelist)[1]:
                return True
        if self.no_repeat:
            seen = set(self.prompt_words)
            for word in complete + ([partial] if partial else []):
                if word in seen:
                    return True
                if word not in STOP_WORDS:
                    seen.add(word)
        return False

    def committed(self, generated: str, final: bool) -> str:
        """The part of the text that is safe to stream (never retracted later)."""
        text = generated.rstrip("\ufffd")
        partial = TRAILING_WORD_RE.search(text) if self.whitelist is not None else None
        if partial and (not final or partial.group().lower() not in self.whitelist):
            text = text[: partial.start()]
        return text

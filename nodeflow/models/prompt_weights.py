"""Prompt weighting syntax: ``(word:1.2)``, ``(word)`` (x1.1), ``[word]`` (/1.1), nesting
multiplies, ``\\(`` and ``\\)`` are literal brackets, and ``embedding:name`` marks a textual
inversion. ``parse_weights`` turns a prompt into (text, weight) pieces."""

from __future__ import annotations

import re

UP = 1.1
EMBEDDING = re.compile(r"embedding:([\w.\-/]+)", re.IGNORECASE)


def _close(text: str, start: int, opener: str, closer: str) -> int:
    """Index of the bracket closing the one at ``start`` (escapes honoured), or -1."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _explicit_weight(inner: str) -> tuple[str, float | None]:
    """Split ``word:1.2`` into (``word``, 1.2); the colon must be outside nested brackets."""
    depth = 0
    for i in range(len(inner) - 1, -1, -1):
        ch = inner[i]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            depth -= 1
        elif ch == ":" and depth == 0 and (i == 0 or inner[i - 1] != "\\"):
            try:
                return inner[:i], float(inner[i + 1 :].strip())
            except ValueError:
                return inner, None
    return inner, None


def parse_weights(text: str, weight: float = 1.0) -> list[tuple[str, float]]:
    """Pieces of ``text`` with their weights; adjacent pieces of equal weight are merged."""
    out: list[tuple[str, float]] = []
    buf, i = [], 0

    def flush() -> None:
        if buf:
            out.append(("".join(buf), weight))
            buf.clear()

    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "()[]\\":
            buf.append(text[i + 1])
            i += 2
            continue
        if ch in "([":
            closer = ")" if ch == "(" else "]"
            end = _close(text, i, ch, closer)
            if end > 0:
                flush()
                inner = text[i + 1 : end]
                if ch == "(":
                    inner, explicit = _explicit_weight(inner)
                    factor = explicit if explicit is not None else UP
                else:
                    factor = 1 / UP
                out.extend(parse_weights(inner, weight * factor))
                i = end + 1
                continue
        buf.append(ch)
        i += 1
    flush()
    merged: list[tuple[str, float]] = []
    for piece, w in out:
        if merged and merged[-1][1] == w:
            merged[-1] = (merged[-1][0] + piece, w)
        elif piece:
            merged.append((piece, w))
    return merged


def split_embeddings(piece: str) -> list[tuple[str, bool]]:
    """Split text into (text, False) and (embedding name, True) parts."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for match in EMBEDDING.finditer(piece):
        if match.start() > pos:
            parts.append((piece[pos : match.start()], False))
        name = match.group(1).rstrip(".,")
        parts.append((name, True))
        pos = match.start() + len("embedding:") + len(name)
    if pos < len(piece):
        parts.append((piece[pos:], False))
    return parts

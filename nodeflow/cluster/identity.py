"""Model files by content, not by path: two workers holding the same checkpoint under different
names or folders hold the same model. The identity hashes the size and three 1 MiB windows (start,
middle, end: a safetensors header names every tensor with its offsets, the windows sample the data),
so a 20 GB file costs 3 MiB of reading; it is remembered per (path, size, mtime)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

WINDOW = 1 << 20
_known: dict[tuple[str, int, int], str] = {}


def file_identity(path: str | os.PathLike) -> str:
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _known:
        digest = hashlib.blake2b(str(st.st_size).encode(), digest_size=16)
        with open(path, "rb") as f:
            for start in sorted({0, max(0, st.st_size // 2 - WINDOW // 2), max(0, st.st_size - WINDOW)}):
                f.seek(start)
                digest.update(f.read(WINDOW))
        _known[key] = digest.hexdigest()
    return _known[key]


def folder_identity(path: str | os.PathLike) -> str:
    """A model kept as a folder (a Hugging Face prompt expander, a diffusers model): its files' identities."""
    digest = hashlib.blake2b(digest_size=16)
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file_identity(file).encode())
    return digest.hexdigest()


def inventory(env: Any, kinds: list[str] | None = None) -> dict[str, dict[str, str]]:
    """{kind: {listed name: identity}} of every model file this installation can load."""
    found: dict[str, dict[str, str]] = {}
    for kind in kinds or sorted(env.model_paths):
        if kind == "configs":
            continue
        names: dict[str, str] = {}
        for name in env.list_files(kind):
            try:
                path = env.model_path(kind, name)
                names[name] = folder_identity(path) if path.is_dir() else file_identity(path)
            except (OSError, ValueError):  # vanished or unreadable: not offered
                continue
        if names:
            found[kind] = names
    return found


def paths_to_identities(env: Any, inv: dict[str, dict[str, str]]) -> dict[str, str]:
    """{resolved path: identity}: how a loaded model (keyed by path in the model manager) is named."""
    result = {}
    for kind, names in inv.items():
        for name, ident in names.items():
            try:
                result[str(env.model_path(kind, name))] = ident
            except (OSError, ValueError):
                continue
    return result

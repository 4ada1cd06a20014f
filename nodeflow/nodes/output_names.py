"""Where a node's output file goes: ``filename_prefix`` ("sub/folder/stem") resolved inside the
output (or temp) folder, and the next free ``{stem}_{counter:05}_{suffix}`` name."""

from __future__ import annotations

import os
import re
from pathlib import Path

from nodeflow.folders import UnsafePath, safe_join


def resolve_prefix(env, prefix: str, kind: str = "output") -> tuple[Path, str, str]:
    """(folder, subfolder, stem) for ``prefix``; refuses anything that leaves the folder."""
    base = env.directory(kind)
    prefix = prefix.strip() or "NodeFlow"
    subfolder, _, stem = prefix.replace("\\", "/").rpartition("/")
    try:
        folder = safe_join(base, subfolder) if subfolder else base
        safe_join(base, *(p for p in (subfolder, stem) if p))
    except UnsafePath as exc:
        raise ValueError(f"filename_prefix {prefix!r} would write outside the {kind} folder: {exc}") from None
    return folder, subfolder, stem


def next_counter(folder: Path, stem: str, suffix: str) -> int:
    pattern = re.compile(rf"^{re.escape(stem)}_(\d+)_{re.escape(suffix)}$")
    if not folder.is_dir():
        return 1
    return 1 + max((int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m), default=0)


def output_file(env, prefix: str, suffix: str) -> tuple[Path, dict]:
    """A new ``{prefix}_{counter:05}_{suffix}`` path in the output folder and its ui record."""
    folder, subfolder, stem = resolve_prefix(env, prefix)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{stem}_{next_counter(folder, stem, suffix):05}_{suffix}"
    return safe_join(folder, name), {"filename": name, "subfolder": subfolder, "type": "output"}

"""Listing the files of a folder, cached per folder. A listing is reused while no directory the
walk read has changed: adding, removing or renaming a file changes its directory's mtime, so a new
file shows at the next call. Checking costs one ``stat`` per directory instead of a walk."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# A listing taken within this long of a directory's last change is not reused: file systems keep
# mtimes in ticks (Linux: a scheduler tick, FAT: 2 s), so a second change in the same tick could
# leave the mtime as it was.
RACY_NS = 2_000_000_000
MAX_FILES = 100_000


def _stamp(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True)
class Listing:
    names: tuple[str, ...]
    dirs: tuple[tuple[str, int | None], ...]  # each directory read, with its mtime (None: missing)
    taken_ns: int  # when the walk started

    def reusable(self) -> bool:
        newest = max((m for _, m in self.dirs if m is not None), default=0)
        return newest < self.taken_ns - RACY_NS and all(_stamp(d) == m for d, m in self.dirs)


def walk(root: Path, extensions: Iterable[str] | None, contained: bool = False) -> tuple[list[str], list[str]]:
    """Files under ``root`` ('/'-separated), and the directories read. ``contained``: never list
    through links leading out."""
    if not root.is_dir():
        return [], [str(root)]
    found: list[str] = []
    read: list[str] = []
    exts = tuple(extensions) if extensions else None
    root_real = os.path.realpath(root)
    seen: set[str] = set()  # real paths visited: a symlink back to an ancestor must not loop forever
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        outside = contained and not (real == root_real or real.startswith(root_real + os.sep))
        if real in seen or outside or len(found) > MAX_FILES:
            dirnames[:] = []
            continue
        seen.add(real)
        read.append(dirpath)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = os.path.relpath(dirpath, root)
        for filename in filenames:
            if filename.startswith("."):
                continue
            if exts and not filename.lower().endswith(exts):
                continue
            if contained and not os.path.realpath(os.path.join(dirpath, filename)).startswith(root_real + os.sep):
                continue
            found.append(filename if rel == "." else f"{rel.replace(os.sep, '/')}/{filename}")
    return found, read


def model_folders(root: Path) -> tuple[list[str], list[str]]:
    """Hugging Face model folders directly under ``root`` (a folder with a config.json)."""
    if not root.is_dir():
        return [], [str(root)]
    subdirs = [p for p in root.iterdir() if p.is_dir()]
    return [p.name for p in subdirs if (p / "config.json").exists()], [str(root), *map(str, subdirs)]


class ListingCache:
    """Listings by (folder, how it is listed); thread-safe (the event loop's helper threads and the
    worker list folders at the same time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listings: dict[tuple, Listing] = {}
        self.walks = 0  # listings read from disk (the rest came from the cache)

    def get(self, key: tuple, read: Callable[[], tuple[list[str], list[str]]]) -> tuple[str, ...]:
        with self._lock:
            listing = self._listings.get(key)
        if listing is not None and listing.reusable():
            return listing.names
        taken = time.time_ns()
        names, dirs = read()
        listing = Listing(tuple(names), tuple((d, _stamp(d)) for d in dirs), taken)
        with self._lock:
            self._listings[key] = listing
            self.walks += 1
        return listing.names

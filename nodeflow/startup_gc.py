"""Python's cyclic garbage collector around a process's start-up.

Importing torch and the node modules and building the registry create ~200,000 tracked objects that
live as long as the process. A full collection scans every one of them: while they pile up during a
start that cost ~0.35 s per full collection (three of them) plus ~0.2 s of younger ones, and every
later full collection costs ~0.25 s, the first one falling inside the first prompt. ``paused_then_frozen``
pauses the collector while start-up runs and then freezes what exists (``gc.freeze``: later
collections skip those objects); everything made afterwards is collected as usual.

For process entry points only (main.py, ``nodeflow run``, a Ray worker): frozen objects are never
collected, so a long-lived process that builds runtimes over and over (the test suite) must not use it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_then_frozen"]


@contextlib.contextmanager
def paused_then_frozen() -> Iterator[None]:
    """No cyclic collection inside the block; afterwards every object alive is frozen and the
    collector is back in the state it was in."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()

"""Blocking work kept off the event loop in order. ``SerialThread`` runs calls on one thread of its
own, in the order they were made: the SQLite store's calls from handlers, so a write queued after
another lands after it. (Unordered blocking work, such as folder walks and prompt validation, goes
through ``asyncio.to_thread``.)"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class SerialThread:
    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for the calls already queued, then end the thread."""
        self._pool.shutdown(wait=True)

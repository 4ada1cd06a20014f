"""Awaiting what plugin code returns from synchronous callers: ComfyUI lets a node's function
(and its check_lazy_status, IS_CHANGED, VALIDATE_INPUTS, a V3 pack's entry point) be ``async``."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any


async def _wrap(awaitable: Any) -> Any:
    return await awaitable


def _run_on_fresh_loop(awaitable: Any) -> Any:
    """Run to completion on a loop of its own, leaving the thread's current loop setting alone
    (``asyncio.run`` would reset it, which breaks later ``get_event_loop()`` callers)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_wrap(awaitable))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def await_now(value: Any, loop: asyncio.AbstractEventLoop | None = None) -> Any:
    """``value`` itself, or what it resolves to when it is awaitable. Runs on ``loop`` when given,
    else on a fresh loop; when this thread is already running a loop (the server's), on a helper
    thread with a copy of this thread's context (so contextvars such as the node context carry)."""
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if loop is not None:
            return loop.run_until_complete(_wrap(value))
        return _run_on_fresh_loop(value)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nodeflow-await") as pool:
        return pool.submit(context.run, _run_on_fresh_loop, value).result()


class ThreadLoops:
    """One event loop per thread, kept for the thread's life: async nodes of consecutive prompts
    run on the same loop in the worker thread (a pack may keep loop-bound clients between calls)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def run(self, value: Any) -> Any:
        if not inspect.isawaitable(value):
            return value
        loop = getattr(self._local, "loop", None)
        if loop is None or loop.is_closed():
            loop = self._local.loop = asyncio.new_event_loop()
        return await_now(value, loop)

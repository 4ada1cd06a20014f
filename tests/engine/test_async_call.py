"""Awaiting plugin coroutines from synchronous code: with or without a running loop in the thread."""

import asyncio
import contextvars
import threading

from nodeflow.engine.async_call import ThreadLoops, await_now

LABEL = contextvars.ContextVar("label", default=None)


async def answer(value):
    await asyncio.sleep(0)
    return value, LABEL.get(), id(asyncio.get_running_loop())


def test_plain_values_pass_and_coroutines_are_awaited():
    assert await_now(5) == 5
    assert await_now(answer(1))[0] == 1


async def test_inside_a_running_loop_a_helper_thread_awaits_with_this_context():
    """validate_prompt runs on the server's loop thread; an async VALIDATE_INPUTS still resolves."""
    LABEL.set("request")
    value, label, loop_id = await_now(answer(2))
    assert (value, label) == (2, "request") and loop_id != id(asyncio.get_running_loop())


def test_thread_loops_keep_one_loop_per_thread():
    loops = ThreadLoops()
    seen = []

    def work():
        seen.append(loops.run(answer("a"))[2])
        seen.append(loops.run(answer("b"))[2])

    for _ in range(2):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert seen[0] == seen[1] and seen[2] == seen[3]  # (ids across threads may be reused after GC)

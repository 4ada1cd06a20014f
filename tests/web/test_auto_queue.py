"""Auto Queue (issue 19; ComfyUI's "Queue (Instant)" / "Queue (On Change)"), in a real Chromium against a real
server running the toy nodes: the workflow queues itself again while the mode is on, and stops when it is off."""

import time

from tests.helpers.editor_page import clear_canvas, nodes

from .test_editor_daily import load, slow_flow


def history_count(page):
    return page.evaluate("async () => Object.keys(await (await fetch('/history')).json()).length")


def wait_for(predicate, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def idle(page):
    return page.evaluate("() => window.nodeflow.app.queueStatus.remaining") == 0


def test_instant_queues_again_until_turned_off(page):
    clear_canvas(page)
    load(page, slow_flow(2))
    start = history_count(page)
    page.select_option("#auto-queue", "instant")
    page.click("#queue-button")
    assert wait_for(lambda: history_count(page) >= start + 3), "the workflow did not queue itself again"
    page.select_option("#auto-queue", "off")
    assert wait_for(lambda: idle(page))
    time.sleep(1.5)  # a prompt whose POST was already under way when the mode went off still runs
    assert wait_for(lambda: idle(page))
    settled = history_count(page)
    time.sleep(2)
    assert idle(page) and history_count(page) == settled  # off: nothing more is queued


def test_on_change_queues_after_an_edit_and_only_then(page):
    clear_canvas(page)
    load(page, slow_flow(2))
    assert wait_for(lambda: idle(page))
    start = history_count(page)
    page.select_option("#auto-queue", "change")
    time.sleep(1.5)
    assert history_count(page) == start and idle(page)  # no edit, no run
    const = next(i for i, n in nodes(page).items() if n["type"] == "Const")
    with page.expect_request(lambda r: r.url.endswith("/prompt") and r.method == "POST") as request:
        page.evaluate(
            "(n) => { const app = window.nodeflow.app; app.widgets.set(n, 'value', 5); }",
            const,
        )
    assert '"value": 5' in request.value.post_data.replace(":5", ": 5")
    assert wait_for(lambda: history_count(page) == start + 1 and idle(page))
    time.sleep(1.5)
    assert history_count(page) == start + 1  # one edit, one run
    page.select_option("#auto-queue", "off")

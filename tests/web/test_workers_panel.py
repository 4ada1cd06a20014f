"""The queue panel lists who runs prompts (GET /nodeflow/workers): here the embedded worker, with
its state and prompts done, updated as a prompt runs."""

import json
import urllib.request

import pytest

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)


def post(url, body):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_the_queue_panel_shows_the_worker_and_its_running_prompt(page, server):
    page.click("#queue-toggle")
    row = page.wait_for_selector("#queue-panel .workers tr[data-worker='local']")
    assert "idle" in row.inner_text() and "0 done" in row.inner_text()
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 3}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": 300}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    post(server["url"] + "/prompt", {"prompt": prompt})
    page.wait_for_function(
        "document.querySelector(\"#queue-panel .workers tr[data-worker='local']\").classList.contains('busy')",
        timeout=20000,
    )
    assert "▶ #" in page.inner_text("#queue-panel .workers tr[data-worker='local']")
    page.wait_for_function(
        "document.querySelector(\"#queue-panel .workers tr[data-worker='local']\").innerText.includes('1 done')",
        timeout=30000,
    )
    assert page.is_visible("#queue-panel .workers")

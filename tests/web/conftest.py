"""A real NodeFlow server process and a real headless Chromium (Debian's), for editor tests."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.server.test_restart import free_port, start

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("editor-base")
    port = free_port()
    proc = start(base, port, custom_nodes=True)
    yield {"url": f"http://127.0.0.1:{port}", "base": base}
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server, request):
    # Playwright polls predicates with eval, which the editor's strict CSP forbids; the CSP itself
    # is checked by the server tests.
    context = browser.new_context(viewport={"width": 1400, "height": 850}, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + "/")
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert errors == [], errors


def clear_canvas(page):
    page.evaluate("""() => { const app = window.nodeflow.app;
        app.setGraph({format: 'nodeflow-workflow', version: 1, nodes: [], links: []}, 'test'); }""")


def add_node(page, x, y, query):
    page.mouse.dblclick(x, y)
    try:
        page.wait_for_selector(".search-box input", timeout=5000)
    except Exception:  # a double-click right after a workflow loads is sometimes lost: once more (see the note)
        page.mouse.dblclick(x, y)
        page.wait_for_selector(".search-box input")
    page.keyboard.type(query)
    page.keyboard.press("Enter")
    return page.evaluate("() => [...window.nodeflow.graph.nodes.values()].at(-1).id")


def drag(page, start, end):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def slot(page, node_id, side, key):
    return page.evaluate("([n, s, k]) => window.nodeflow.slotPosition(n, s, k)", [node_id, side, key])


def graph(page):
    """The open workflow as the editor saves it."""
    return page.evaluate("() => window.nodeflow.graph.toJSON()")


def nodes(page):
    return {n["id"]: n for n in graph(page)["nodes"]}


def rect(page, node_id):
    """A node's box on the page (x, y, w, h in CSS pixels)."""
    return page.evaluate("(n) => window.nodeflow.nodeRect(n)", node_id)

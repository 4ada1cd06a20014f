"""A real NodeFlow server process and a real headless Chromium (Debian's), for editor tests."""

import pytest
from playwright.sync_api import sync_playwright

from tests.helpers.chromium import launch
from tests.helpers.editor_page import ARTIFACTS
from tests.helpers.server_process import free_port, start


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
        browser = launch(p)
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

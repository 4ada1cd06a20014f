"""ComfyUI web extensions in a real Chromium against a real server: a pack written the ComfyUI way
(tests/plugins/packs/comfy_web_pack) imports app/api/widgets/ui from ../../scripts/, adds widgets in
onNodeCreated, reacts to `executed` and to a custom event its Python sends, calls api.fetchApi; its
broken scripts are reported while the good one, NodeFlow's own extensions and the editor still work."""

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.editor_page import ARTIFACTS, add_node, clear_canvas
from tests.helpers.server_process import free_port, start

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

PACK = Path(__file__).resolve().parents[1] / "plugins" / "packs" / "comfy_web_pack"
COMFY = "window.comfyAPI.app.app"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-web")
    shutil.copytree(PACK, base / "custom_nodes" / "comfy_web_pack")
    port = free_port()
    proc = start(base, port, custom_nodes=True)
    yield {"url": f"http://127.0.0.1:{port}", "base": base}
    proc.terminate()
    proc.wait(timeout=20)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def widgets(page, node):
    return page.evaluate(
        f"(id) => {COMFY}.graph.getNodeById(id).widgets.map((w) => [w.name, w.type, w.value ?? null])", node
    )


def problems(page):
    return page.evaluate("() => window.nodeflow.extensionProblems")


def test_comfyui_module_paths_are_served(server):
    for name in ("app", "api", "widgets", "ui", "utils"):
        status, ctype, body = fetch(f"{server['url']}/scripts/{name}.js")
        assert status == 200 and "javascript" in ctype and "window.comfyAPI" in body, name
    assert fetch(f"{server['url']}/scripts/nothing.js")[0] == 404
    status, _, body = fetch(f"{server['url']}/extensions")
    assert "/extensions/comfy_web_pack/echo.js" in json.loads(body)


def test_comfy_pack_runs_and_broken_scripts_are_reported(page):
    page.wait_for_selector("#comfy-web-pack-ready", state="attached", timeout=10000)
    found = problems(page)
    assert any(p["source"].endswith("broken_import.js") and "broken at import" in p["message"] for p in found), found
    assert any(p["extension"] == "comfy_web_pack.broken_hooks" and p["hook"] == "setup" for p in found), found
    assert page.is_visible("#plugin-problems")
    seen = page.evaluate("() => window.comfyWebPack")
    assert seen["nodeData"] == {"name": "WebEcho", "category": "testing/web", "comfyClass": "WebEcho"}
    assert seen["fetched"] == "Web Echo" and seen["apiURL"] == "/api/view?filename=x.png"
    page.click("#plugin-problems")
    listed = page.locator("#problems-panel li").all_inner_texts()
    assert any("broken_import.js" in t and "broken at import" in t for t in listed), listed
    page.click("#plugin-problems")
    # the pack's setting (extension `settings` array) is in NodeFlow's settings panel and saved for the user
    page.click("#settings-toggle")
    field = page.locator("#settings-panel input[name='comfy_web_pack.prefix']")
    assert field.input_value() == "Echo"
    field.fill("Said")
    field.press("Tab")
    page.click("#settings-toggle")
    page.wait_for_function(
        "async () => (await (await fetch('/userdata/comfy.settings.json')).json())['comfy_web_pack.prefix'] === 'Said'"
    )

    clear_canvas(page)
    node = add_node(page, 420, 320, "Web Echo")
    assert widgets(page, node) == [
        ["text", "text", "hello"],
        ["Shout", "button", None],
        ["repeat", "number", 2],
        ["echo_out", "customtext", ""],
    ]
    assert page.evaluate("() => window.comfyWebPack.created") == [int(node)]
    hook = [p for p in problems(page) if p["hook"] == "nodeCreated"]
    assert len(hook) == 1 and "nodeCreated exploded" in hook[0]["message"]

    # the extension's button row on the canvas runs its callback
    x, y = page.evaluate("(id) => window.nodeflow.widgetPosition(id, 'Shout')", node)
    page.mouse.click(x, y)
    assert widgets(page, node)[0][2] == "HELLO"
    # the textarea (an element widget) lies over the node
    box = page.locator("#dom-widgets textarea").bounding_box()
    rect = page.evaluate("(id) => window.nodeflow.nodeRect(id)", node)
    assert rect["x"] <= box["x"] and box["x"] + box["width"] <= rect["x"] + rect["w"] + 1
    assert rect["y"] <= box["y"] and box["y"] + box["height"] <= rect["y"] + rect["h"] + 1

    page.click("#queue-button")
    page.wait_for_function("() => document.querySelector('#dom-widgets textarea').value === 'OLLEH'", timeout=20000)
    seen = page.evaluate("() => window.comfyWebPack")
    assert seen["events"] == [{"node": node, "text": "HELLO"}]  # the pack's custom event
    assert seen["executed"][0]["output"] == {"echo": ["OLLEH"]} and seen["executed"][0]["node"] == node
    assert seen["executing"] == node
    assert page.evaluate(f"(id) => {COMFY}.graph.getNodeById(id).title", node) == "Said: HELLO"
    prompt = page.evaluate(f"async () => (await {COMFY}.graphToPrompt()).output")
    assert prompt[node]["inputs"] == {"text": "HELLO", "repeat": 2}  # echo_out: options.serialize false
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "comfy_extension_after_run.png"))

    # getExtraMenuOptions entries join the node's context menu
    r = page.evaluate("(id) => window.nodeflow.nodeRect(id)", node)
    page.mouse.click(r["x"] + 60, r["y"] + 12, button="right")
    page.click(".context-menu li:text-is('Echo: reset text')")
    assert widgets(page, node)[0][2] == "hello"

    # saved values come back on reload (echo_out is not saved); loadedGraphNode runs for the node
    saved = page.evaluate("() => window.nodeflow.graph.toJSON().nodes[0].widgets")
    assert saved == {"text": "hello", "repeat": 2}
    page.evaluate("() => window.nodeflow.app.tabs.persist()")
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    assert widgets(page, node)[2] == ["repeat", "number", 2]
    assert page.evaluate("() => window.comfyWebPack.loaded") == [int(node)]


def test_nodeflow_extensions_still_work_beside_comfy_ones(page):
    clear_canvas(page)
    node = add_node(page, 300, 300, "Vignette")
    assert page.evaluate("(id) => window.nodeflow.graph.nodes.get(id).color", node) == "#4a3a6a"
    assert page.evaluate(f"(id) => {COMFY}.graph.getNodeById(id).widgets.map((w) => w.name)", node) == ["strength"]

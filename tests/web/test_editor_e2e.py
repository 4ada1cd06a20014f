"""The editor in a real browser against a real server: build, connect, set, queue, see; open by
drag and drop; survive a reload; show validation errors on the right node; load extensions."""

import json
from pathlib import Path

import pytest

from tests.helpers.editor_page import add_node, clear_canvas, drag, slot

ROOT = Path(__file__).resolve().parents[2]


def graph(page):
    return page.evaluate("() => window.nodeflow.graph.toJSON()")


def test_build_connect_set_queue_and_see_the_output(page, server):
    clear_canvas(page)
    source = add_node(page, 200, 250, "EmptyImage")
    invert = add_node(page, 560, 250, "Invert Image")
    save = add_node(page, 900, 250, "Save Image")
    assert [n["type"] for n in graph(page)["nodes"]] == ["EmptyImage", "ImageInvert", "SaveImage"]
    drag(page, slot(page, source, "out", 0), slot(page, invert, "in", "image"))
    drag(page, slot(page, invert, "out", 0), slot(page, save, "in", "images"))
    links = graph(page)["links"]
    assert sorted((link["from"][0], link["to"][1]) for link in links) == [(source, "image"), (invert, "images")]
    # an IMAGE output cannot go into... a node input of another type: dropping on a widget row does nothing
    for name, value in (("width", "48"), ("height", "32")):
        x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [source, name])
        page.mouse.click(x, y)
        field = page.wait_for_selector(".widget-editor")
        field.fill(value)
        page.keyboard.press("Enter")
    page.evaluate(
        "([n]) => { const node = window.nodeflow.graph.nodes.get(n); node.widgets.filename_prefix = 'e2e'; }", [save]
    )
    nodes = {n["id"]: n for n in graph(page)["nodes"]}
    assert nodes[source]["widgets"]["width"] == 48 and nodes[source]["widgets"]["height"] == 32
    page.click("#queue-button")
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=save, timeout=30000)
    output = server["base"] / "output" / "e2e_00001_.png"
    assert output.exists()
    from PIL import Image

    with Image.open(output) as img:
        assert img.size == (48, 32)
        assert json.loads(img.text["nodeflow_workflow"])["format"] == "nodeflow-workflow"
        assert json.loads(img.text["workflow"])["version"] == 0.4  # ComfyUI's editor format, for ComfyUI


def test_undo_redo_and_delete(page):
    clear_canvas(page)
    node = add_node(page, 300, 300, "EmptyImage")
    page.keyboard.press("Control+z")
    assert graph(page)["nodes"] == []
    page.keyboard.press("Control+y")
    assert [n["id"] for n in graph(page)["nodes"]] == [node]
    page.mouse.click(*slot(page, node, "out", 0)[:1], slot(page, node, "out", 0)[1] - 30)
    page.evaluate("([n]) => window.nodeflow.app.state.selection = new Set([n])", [node])
    page.keyboard.press("Delete")
    assert graph(page)["nodes"] == []


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_drop_a_comfyui_workflow_file_onto_the_canvas(page):
    workflow = {
        "version": 0.4,
        "last_node_id": 2,
        "last_link_id": 1,
        "groups": [],
        "config": {},
        "extra": {},
        "nodes": [
            {
                "id": 1,
                "type": "EmptyImage",
                "pos": [100, 100],
                "size": [250, 120],
                "mode": 0,
                "inputs": [],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
                "widgets_values": [64, 64, 1, 0],
            },
            {
                "id": 2,
                "type": "PreviewImage",
                "pos": [450, 100],
                "size": [250, 250],
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": 1}],
                "outputs": [],
                "widgets_values": [],
            },
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"]],
    }
    page.evaluate(
        """(text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped.json', {type: 'application/json'}));
        document.getElementById('canvas').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, clientX: 400, clientY: 300, bubbles: true}));
    }""",
        json.dumps(workflow),
    )
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 2 && window.nodeflow.graph.nodes.has('2')")
    loaded = graph(page)
    assert {n["type"] for n in loaded["nodes"]} == {"EmptyImage", "PreviewImage"}
    assert loaded["nodes"][0]["widgets"] == {"width": 64, "height": 64, "batch_size": 1, "color": 0}
    assert loaded["links"][0]["from"] == ["1", 0] and loaded["links"][0]["to"] == ["2", "images"]


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_reload_restores_the_workflow(page):
    clear_canvas(page)
    node = add_node(page, 400, 300, "EmptyImage")
    page.evaluate(
        "([n]) => { window.nodeflow.graph.nodes.get(n).widgets.width = 77; window.nodeflow.app.changed(); }", [node]
    )
    page.wait_for_timeout(700)  # autosave is debounced
    before = graph(page)
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'")
    after = graph(page)
    assert after["nodes"] == before["nodes"] and after["nodes"][0]["widgets"]["width"] == 77


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_validation_error_shows_on_the_right_node(page):
    clear_canvas(page)
    load = add_node(page, 200, 250, "Load Image")
    preview = add_node(page, 600, 250, "Preview Image")
    drag(page, slot(page, load, "out", 0), slot(page, preview, "in", "images"))
    page.evaluate("([n]) => { window.nodeflow.graph.nodes.get(n).widgets.image = 'missing.png'; }", [load])
    page.click("#queue-button")
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.errors.has(id)", arg=load, timeout=15000)
    message = page.evaluate("(id) => window.nodeflow.app.state.runtime.errors.get(id)", load)
    assert "missing.png" in message
    assert page.is_visible("#error-panel") and "missing.png" in page.inner_text("#error-panel")
    assert page.evaluate("(id) => window.nodeflow.app.state.runtime.errors.has(id)", preview) is False


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_plugin_extension_runs_in_the_editor(page):
    clear_canvas(page)
    node = add_node(page, 300, 300, "Vignette")
    assert page.evaluate("(id) => window.nodeflow.graph.nodes.get(id).type", node) == "ExampleVignette"
    assert page.evaluate("(id) => window.nodeflow.graph.nodes.get(id).color", node) == "#4a3a6a"


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_drop_a_png_with_a_workflow_and_an_image_onto_load_image(page, server):
    from io import BytesIO

    from PIL import Image

    from nodeflow.workflow.image_metadata import write_png

    workflow = {
        "format": "nodeflow-workflow",
        "version": 1,
        "links": [],
        "nodes": [
            {
                "id": "5",
                "type": "EmptyImage",
                "pos": [100, 100],
                "mode": "active",
                "widgets": {"width": 24, "height": 24, "batch_size": 1, "color": 255},
                "controls": {},
            }
        ],
    }
    png = write_png(Image.new("RGB", (8, 8), (255, 0, 0)), None, {"workflow": workflow})
    drop = """([bytes, name, type, x, y]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, {type}));
        document.getElementById('canvas').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, clientX: x, clientY: y, bubbles: true}));
    }"""
    page.evaluate(drop, [list(png), "shared.png", "image/png", 500, 400])
    # the default workflow has a node "5" too: wait for the dropped one
    page.wait_for_function("() => window.nodeflow.graph.nodes.get('5')?.type === 'EmptyImage'")
    assert {n["id"]: n for n in graph(page)["nodes"]}["5"]["widgets"]["width"] == 24
    clear_canvas(page)
    load = add_node(page, 300, 300, "Load Image")
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [load, "image"])
    buf = BytesIO()
    Image.new("RGB", (10, 6), (0, 200, 0)).save(buf, format="PNG")
    page.evaluate(drop, [list(buf.getvalue()), "green.png", "image/png", x, y])
    page.wait_for_function("(id) => window.nodeflow.graph.nodes.get(id).widgets.image === 'green.png'", arg=load)
    assert (server["base"] / "input" / "green.png").exists()
    assert page.evaluate("(id) => window.nodeflow.nodeImages(id)", load) == [
        "/view?filename=green.png&subfolder=&type=input"
    ]


@pytest.mark.slow  # Chromium; the fast tier keeps the two editor smoke tests above
def test_markup_in_workflows_is_shown_as_text_never_run(page):
    evil = '<img src=x onerror="window.__xss=1">'
    workflow = {
        "format": "nodeflow-workflow",
        "version": 1,
        "links": [],
        "nodes": [
            {
                "id": "1",
                "type": "EmptyImage",
                "title": evil,
                "pos": [100, 100],
                "mode": "active",
                "widgets": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
                "controls": {},
            },
            {
                "id": "2",
                "type": "PrimitiveString",
                "title": "javascript:window.__xss=2",
                "pos": [100, 400],
                "mode": "active",
                "widgets": {"value": "<script>window.__xss=3</script>"},
                "controls": {},
            },
            {
                "id": "3",
                "type": "<svg onload=window.__xss=4>",
                "pos": [500, 100],
                "mode": "active",
                "widgets": {},
                "controls": {},
            },
        ],
        "notes": [{"id": "n", "text": "<iframe src=javascript:window.__xss=5>", "pos": [0, 0]}],
    }
    page.evaluate("(wf) => window.nodeflow.app.loadWorkflow(wf, '<b onmouseover=window.__xss=6>x</b>')", workflow)
    page.wait_for_selector(".toast")
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('2', 'value')")
    page.mouse.click(x, y)  # opens the text editor overlay with the value
    page.wait_for_selector(".widget-editor")
    page.mouse.move(10, 10)
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    assert (
        page.evaluate("() => document.querySelectorAll('#overlays img, #toasts img, #toasts svg, iframe, b').length")
        == 0
    )
    assert "<svg onload=window.__xss=4>" in page.inner_text("#toasts")
    assert page.input_value(".widget-editor") == "<script>window.__xss=3</script>"

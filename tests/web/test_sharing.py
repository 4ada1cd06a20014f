"""Sharing in a real browser against a real server: a queued workflow's PNG carries ComfyUI's editor
format under "workflow", the API prompt under "prompt" and NodeFlow's own under "nodeflow_workflow";
Export offers the three formats; the PNG and the ComfyUI export open back as the same graph."""

import json
from pathlib import Path

import pytest
from PIL import Image

from nodeflow.workflow.convert import detect_format
from tests.helpers.editor_page import add_node, clear_canvas, drag, slot

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

DROP = """([bytes, name, type]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], name, {type}));
    document.getElementById('canvas').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, clientX: 700, clientY: 500, bubbles: true}));
}"""


def graph(page):
    return page.evaluate("() => window.nodeflow.graph.toJSON()")


def shape(workflow):
    """What must survive a round trip: node types and widget values by id, and the links."""
    return (
        {n["id"]: (n["type"], n["widgets"], n.get("title")) for n in workflow["nodes"]},
        sorted((tuple(link["from"]), tuple(link["to"])) for link in workflow["links"]),
    )


def build(page):
    clear_canvas(page)
    source = add_node(page, 200, 250, "EmptyImage")
    invert = add_node(page, 560, 250, "Invert Image")
    save = add_node(page, 900, 250, "Save Image")
    drag(page, slot(page, source, "out", 0), slot(page, invert, "in", "image"))
    drag(page, slot(page, invert, "out", 0), slot(page, save, "in", "images"))
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [save, "filename_prefix"])
    page.mouse.click(x, y)
    page.wait_for_selector(".widget-editor").fill("shared")
    page.keyboard.press("Enter")
    for name, value in (("width", "40"), ("height", "24")):
        x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [source, name])
        page.mouse.click(x, y)
        page.wait_for_selector(".widget-editor").fill(value)
        page.keyboard.press("Enter")
    return source, invert, save


def export(page, label):
    """Click Export, pick `label`; the downloaded JSON."""
    page.click("#export-button")
    with page.expect_download() as download:
        page.click(f".export-menu li >> text='{label}'")
    return json.loads(open(download.value.path()).read())


def test_png_carries_comfyui_format_api_prompt_and_nodeflows_and_opens_back(page, server):
    _source, invert, save = build(page)
    sent = graph(page)
    page.mouse.click(700, 650)  # focus the canvas, then queue from the keyboard
    page.keyboard.press("Control+Enter")
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=save, timeout=30000)
    output = server["base"] / "output" / "shared_00001_.png"
    with Image.open(output) as img:
        texts = dict(img.text)
        assert img.size == (40, 24)
    assert set(texts) == {"prompt", "workflow", "nodeflow_workflow"}
    comfy = json.loads(texts["workflow"])
    assert detect_format(comfy) == "comfyui" and comfy["version"] == 0.4
    assert sorted(n["type"] for n in comfy["nodes"]) == ["EmptyImage", "ImageInvert", "SaveImage"]
    assert {n["type"]: n["widgets_values"] for n in comfy["nodes"]}["EmptyImage"][:2] == [40, 24]
    assert comfy["links"] and all(len(link) == 6 for link in comfy["links"])
    prompt = json.loads(texts["prompt"])
    assert prompt[save]["class_type"] == "SaveImage" and prompt[save]["inputs"]["images"] == [invert, 0]
    assert shape(json.loads(texts["nodeflow_workflow"])) == shape(sent)
    # NodeFlow reads its own copy back: drop the PNG on a cleared canvas
    clear_canvas(page)
    page.evaluate(DROP, [list(output.read_bytes()), output.name, "image/png"])
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 3")
    assert shape(graph(page)) == shape(sent)


def test_export_offers_nodeflow_comfyui_and_api_formats(page):
    source, invert, save = build(page)
    sent = graph(page)
    page.click("#export-button")
    labels = page.locator(".export-menu li").all_inner_texts()
    assert labels == ["NodeFlow workflow (.json)", "ComfyUI workflow (.json)", "API prompt (.json)"]
    page.keyboard.press("Escape")
    assert shape(export(page, "NodeFlow workflow (.json)")) == shape(sent)
    comfy = export(page, "ComfyUI workflow (.json)")
    assert detect_format(comfy) == "comfyui"
    assert sorted(n["id"] for n in comfy["nodes"]) == sorted(int(i) for i in (source, invert, save))
    # the API prompt from the keyboard: the command palette
    page.mouse.click(700, 650)
    page.keyboard.press("Control+k")
    page.keyboard.type("Export as an API prompt")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    api = json.loads(Path(download.value.path()).read_text())
    assert detect_format(api) == "api"
    assert api[source]["class_type"] == "EmptyImage"
    assert api[source]["inputs"] == {"width": 40, "height": 24, "batch_size": 1, "color": 0}
    assert api[save]["inputs"] == {"images": [invert, 0], "filename_prefix": "shared"}
    # ComfyUI's format opens back as the same graph (ComfyUI -> NodeFlow)
    clear_canvas(page)
    page.evaluate(DROP, [list(json.dumps(comfy).encode()), "shared_comfyui.json", "application/json"])
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 3")
    assert shape(graph(page)) == shape(sent)

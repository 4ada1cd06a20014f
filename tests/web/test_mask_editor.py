"""The mask editor in a real browser against a real server, through mouse and keyboard: paint, undo,
redo, erase, invert, zoom; Save writes a new PNG in input/ whose alpha is the mask and the node
takes it; the demo inpainting workflow (web/examples/inpaint_demo.json, demo models) then repaints
the masked area only."""

import numpy as np
import pytest
from PIL import Image

from nodeflow.demo.shapes import Scene, Shape, render, shape_mask
from tests.helpers.editor_page import ARTIFACTS, clear_canvas

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

LOAD, SAVE = "4", "9"  # in inpaint_demo.json


def coverage(page):
    return page.evaluate("() => window.nodeflow.app.maskEditor.coverage()")


def overlay_box(page):
    return page.locator(".mask-overlay").bounding_box()


def stroke(page, points):
    """A stroke through image-pixel points (64x64 image) with the left button."""
    box = overlay_box(page)
    k = box["width"] / 64

    def to_screen(p):
        return (box["x"] + p[0] * k, box["y"] + p[1] * k)

    page.mouse.move(*to_screen(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*to_screen(p), steps=4)
    page.mouse.up()


def open_on_load_image(page):
    x, y = page.evaluate("(n) => { const r = window.nodeflow.nodeRect(n); return [r.x + 60, r.y + 12]; }", LOAD)
    page.mouse.click(x, y, button="right")
    page.click(".context-menu li >> text='Open in Mask Editor'")
    page.wait_for_selector(".mask-editor .mask-overlay")
    page.wait_for_function("() => window.nodeflow.app.maskEditor && window.nodeflow.app.maskEditor.w === 64")


def test_paint_a_mask_and_run_the_demo_inpainting_workflow(page, server):
    scene = Scene((Shape("circle", "red", "large", "center"),), "dark blue")
    original = render(scene, 64)
    original.save(server["base"] / "input" / "scene.png")
    clear_canvas(page)
    page.evaluate(
        "async () => { await window.nodeflow.app.refreshObjectInfo(); await window.nodeflow.app.loadUrl('/examples/inpaint_demo.json'); }"
    )
    page.wait_for_function("(n) => window.nodeflow.graph.nodes.get(n)?.type === 'LoadImage'", arg=LOAD)
    # pick the picture from Load Image's list (mouse, then keyboard): the node shows it at once
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [LOAD, "image"])
    page.mouse.click(x, y)
    page.wait_for_selector(".combo-editor input")
    page.keyboard.type("scene")
    page.keyboard.press("Enter")
    assert page.evaluate("(n) => window.nodeflow.nodeImages(n)", LOAD) == [
        "/view?filename=scene.png&subfolder=&type=input"
    ]

    open_on_load_image(page)
    assert coverage(page) == 0  # the picture has no alpha: nothing masked yet
    for _ in range(5):
        page.keyboard.press("]")  # a bigger brush
    size = page.evaluate("() => window.nodeflow.app.maskEditor.size")
    assert size > 8
    zigzag = [p for y in (14, 22, 30, 38, 46) for p in ((12, y), (52, y))]
    stroke(page, zigzag)
    painted = coverage(page)
    assert painted > 0.3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mask-editor.png"))
    page.keyboard.press("Control+z")  # undo inside the editor: the graph is untouched
    assert coverage(page) == 0
    page.keyboard.press("Control+y")
    assert coverage(page) == painted
    # the eraser takes a corner back; undo restores it
    page.keyboard.press("e")
    stroke(page, [(12, 14), (20, 14)])
    assert coverage(page) < painted
    page.keyboard.press("Control+z")
    page.keyboard.press("b")
    assert coverage(page) == painted
    # invert twice is the same mask; the Invert button and the I key agree
    page.click(".mask-invert")
    assert abs(coverage(page) - (1 - painted)) < 0.01
    page.keyboard.press("i")
    assert coverage(page) == painted
    # zoom with the wheel at the pointer, pan with the middle button, fit with 0
    box = overlay_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    assert overlay_box(page)["width"] > box["width"] * 1.3
    page.mouse.down(button="middle")
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=3)
    page.mouse.up(button="middle")
    page.keyboard.press("0")
    assert abs(overlay_box(page)["width"] - box["width"]) < 1
    assert coverage(page) == painted  # none of that painted

    page.click(".mask-save")
    page.wait_for_selector(".mask-editor", state="detached")
    page.wait_for_function("(n) => window.nodeflow.graph.nodes.get(n).widgets.image === 'scene-mask.png'", arg=LOAD)
    with Image.open(server["base"] / "input" / "scene-mask.png") as saved:
        assert saved.mode == "RGBA" and saved.size == (64, 64)
        rgba = np.asarray(saved).astype(int)
    assert rgba[32, 32, 3] == 0 and rgba[2, 2, 3] == 255 and rgba[60, 60, 3] == 255  # transparent = masked
    assert (rgba[..., :3] == np.asarray(original)).all()  # the picture itself is unchanged
    masked = rgba[..., 3] < 128
    assert abs(masked.mean() - painted) < 0.05

    page.mouse.click(700, 700)
    page.keyboard.press("Control+Enter")
    page.wait_for_function("(n) => window.nodeflow.app.state.runtime.images.has(n)", arg=SAVE, timeout=180000)
    [url] = page.evaluate("(n) => window.nodeflow.nodeImages(n)", SAVE)
    name = url.split("filename=")[1].split("&")[0]
    with Image.open(server["base"] / "output" / name) as out:
        result = np.asarray(out.convert("RGB")).astype(float)
    source = np.asarray(original).astype(float)
    change = np.abs(result - source).mean(axis=2)
    # the masked area is repainted (red -> the prompt's yellow), the rest is kept
    assert change[masked].mean() > 2 * change[~masked].mean()
    circle = np.asarray(shape_mask(scene, 0)) > 0
    assert masked[circle].all()
    red, green, blue = result[circle].mean(axis=0)  # the red circle (220, 30, 30) is now the prompt's yellow
    assert red > 150 and green > 150 and blue < 100

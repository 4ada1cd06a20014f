"""Images on nodes in a real browser against a real server, through mouse and keyboard: every image
of a batch (grid, pager, lightbox stepping), Load Image's picked file, pasting an image from the
clipboard, Open/Save image in the node menu, and previews that never cover the node below."""

import io

import pytest
from PIL import Image

from tests.helpers.editor_page import ARTIFACTS, add_node, clear_canvas, drag, rect, slot

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

PLACE = """([id, x, y, w, h]) => { const n = window.nodeflow.graph.nodes.get(id); n.pos = [x, y];
    if (w) n.size = [w, h]; window.nodeflow.app.changed(); }"""


def image_parts(page, node_id):
    """Screen rectangles of the node's image area parts (render/image_grid.js geometry)."""
    return page.evaluate(
        """async (id) => {
        const { imageSetLayout } = await import('/js/render/image_grid.js');
        const { pagerIndex } = await import('/js/render/node_images.js');
        const app = window.nodeflow.app, view = window.nodeflow.view;
        const L = view.layouts.get(id), urls = window.nodeflow.nodeImages(id);
        const set = imageSetLayout(L.image, urls.length, pagerIndex(app.state.runtime, id, urls));
        const centre = (r) => r && view.toScreen(r.x + r.w / 2, r.y + r.h / 2);
        return { cells: set.cells.map(centre), prev: centre(set.prev), next: centre(set.next), grid: centre(set.grid) };
    }""",
        node_id,
    )


def pager(page, node_id):
    return page.evaluate(
        """async (id) => { const { pagerIndex } = await import('/js/render/node_images.js');
        return pagerIndex(window.nodeflow.app.state.runtime, id, window.nodeflow.nodeImages(id)); }""",
        node_id,
    )


def set_widget(page, node_id, name, value):
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [node_id, name])
    page.mouse.click(x, y)
    page.wait_for_selector(".widget-editor").fill(value)
    page.keyboard.press("Enter")


def queue_and_wait(page, node_id, count=1):
    page.mouse.click(1300, 780)
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "([n, c]) => (window.nodeflow.app.state.runtime.images.get(n) || []).length === c",
        arg=[node_id, count],
        timeout=60000,
    )


def test_a_batch_shows_every_image_grid_pager_and_lightbox(page):
    clear_canvas(page)
    source = add_node(page, 150, 250, "EmptyImage")
    save = add_node(page, 600, 200, "Save Image")
    drag(page, slot(page, source, "out", 0), slot(page, save, "in", "images"))
    set_widget(page, source, "batch_size", "4")
    set_widget(page, save, "filename_prefix", "batch")
    queue_and_wait(page, save, 4)
    urls = page.evaluate("(n) => window.nodeflow.nodeImages(n)", save)
    assert len(set(urls)) == 4
    parts = image_parts(page, save)
    assert len(parts["cells"]) == 4 and parts["prev"] is None  # the grid: all four at once
    assert len({round(x) for x, _ in parts["cells"]}) == 2  # 2 x 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "batch-grid.png"))
    page.mouse.click(*parts["cells"][1])  # the second image large, with the pager
    assert pager(page, save) == 1
    parts = image_parts(page, save)
    page.mouse.click(*parts["next"])
    assert pager(page, save) == 2
    page.screenshot(path=str(ARTIFACTS / "batch-pager.png"))
    page.mouse.click(*parts["prev"])
    page.mouse.click(*parts["prev"])
    assert pager(page, save) == 0
    page.mouse.click(*parts["prev"])  # wraps around
    assert pager(page, save) == 3
    page.mouse.click(*image_parts(page, save)["cells"][0])  # the large image opens the lightbox there
    page.wait_for_selector("#lightbox:not([hidden])")
    assert page.inner_text(".lightbox-counter") == "4 / 4"
    page.screenshot(path=str(ARTIFACTS / "batch-lightbox.png"))
    assert page.get_attribute("#lightbox-image", "src") == urls[3]
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".lightbox-counter") == "1 / 4"
    assert page.get_attribute("#lightbox-image", "src") == urls[0]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text(".lightbox-counter") == "3 / 4"
    page.click(".lightbox-next")
    assert page.inner_text(".lightbox-counter") == "4 / 4"
    page.keyboard.press("Escape")
    assert page.is_hidden("#lightbox")
    page.mouse.click(*image_parts(page, save)["grid"])  # back to the grid
    assert pager(page, save) == -1
    # the node menu: save the shown image, open it in a new tab
    r = rect(page, save)
    page.mouse.click(r["x"] + 60, r["y"] + 12, button="right")
    with page.expect_download() as download:
        page.click(".context-menu li >> text='Save image'")
    assert download.value.suggested_filename == "batch_00001_.png"
    page.mouse.click(r["x"] + 60, r["y"] + 12, button="right")
    with page.expect_popup() as popup:
        page.click(".context-menu li >> text='Open image'")
    popup.value.wait_for_load_state()
    assert "/view?filename=batch_00001_.png" in popup.value.url


def test_load_image_shows_the_picked_file_and_takes_a_pasted_image(browser, server):
    Image.new("RGB", (20, 12), (0, 0, 255)).save(server["base"] / "input" / "blue.png")
    context = browser.new_context(
        viewport={"width": 1400, "height": 850}, bypass_csp=True, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        page.goto(server["url"] + "/")
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
        clear_canvas(page)
        load = add_node(page, 300, 300, "Load Image")
        x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [load, "image"])
        page.mouse.click(x, y)
        page.click(".combo-editor li >> text='blue.png'")
        assert page.evaluate("(n) => window.nodeflow.nodeImages(n)", load) == [
            "/view?filename=blue.png&subfolder=&type=input"
        ]
        page.wait_for_timeout(700)  # the session is kept a moment after the last edit
        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
        assert page.evaluate("(n) => window.nodeflow.nodeImages(n)", load) == [
            "/view?filename=blue.png&subfolder=&type=input"
        ]
        # an image on the system clipboard, Ctrl+V with Load Image selected: uploaded and taken
        buf = io.BytesIO()
        Image.new("RGB", (9, 7), (255, 128, 0)).save(buf, format="PNG")
        page.evaluate(
            """async (bytes) => { const blob = new Blob([new Uint8Array(bytes)], {type: 'image/png'});
            await navigator.clipboard.write([new ClipboardItem({'image/png': blob})]); }""",
            list(buf.getvalue()),
        )
        r = rect(page, load)
        page.mouse.click(r["x"] + 60, r["y"] + 12)
        page.keyboard.press("Control+v")
        page.wait_for_function("(n) => window.nodeflow.graph.nodes.get(n).widgets.image === 'pasted.png'", arg=load)
        with Image.open(server["base"] / "input" / "pasted.png") as pasted:
            assert pasted.size == (9, 7) and pasted.convert("RGB").getpixel((0, 0)) == (255, 128, 0)
        assert page.evaluate("() => window.nodeflow.graph.nodes.size") == 1  # no nodes were pasted
        assert page.evaluate("(n) => window.nodeflow.nodeImages(n)", load) == [
            "/view?filename=pasted.png&subfolder=&type=input"
        ]
        page.keyboard.press("Control+z")
        assert page.evaluate("(n) => window.nodeflow.graph.nodes.get(n).widgets.image", load) == "blue.png"
        # the node menu's Paste image does the same
        page.mouse.click(r["x"] + 60, r["y"] + 12, button="right")
        page.click(".context-menu li >> text='Paste image'")
        page.wait_for_function("(n) => window.nodeflow.graph.nodes.get(n).widgets.image === 'pasted (1).png'", arg=load)
    finally:
        context.close()


def test_a_growing_preview_never_covers_the_node_below(page):
    clear_canvas(page)
    source = add_node(page, 150, 250, "EmptyImage")
    tight = add_node(page, 600, 150, "Preview Image")
    roomy = add_node(page, 950, 150, "Preview Image")
    below = add_node(page, 600, 500, "Invert Image")
    under = add_node(page, 950, 500, "Invert Image")
    drag(page, slot(page, source, "out", 0), slot(page, tight, "in", "images"))
    drag(page, slot(page, source, "out", 0), slot(page, roomy, "in", "images"))
    # two small Preview Image nodes: one with 120 px free below, one with 8 px
    page.evaluate("() => { window.nodeflow.app.state.graph.viewport = {scale: 1, offset: [0, 0]}; }")
    page.evaluate(PLACE, [tight, 500, 100, 240, 60])
    page.evaluate(PLACE, [below, 500, 280, 0, 0])
    page.evaluate(PLACE, [roomy, 850, 100, 240, 60])
    page.evaluate(PLACE, [under, 850, 168, 0, 0])
    before = {n: rect(page, n) for n in (tight, roomy, below, under)}
    queue_and_wait(page, tight)
    page.wait_for_function("(n) => window.nodeflow.nodeImages(n).length === 1", arg=roomy)
    after = {n: rect(page, n) for n in (tight, roomy)}
    assert after[tight]["h"] > before[tight]["h"] + 30  # it grew into the free space ...
    assert after[tight]["y"] + after[tight]["h"] <= before[below]["y"]  # ... and stopped above its neighbour
    assert after[roomy]["y"] + after[roomy]["h"] <= before[under]["y"]  # no room: it did not grow over it
    thumb = page.evaluate("(n) => window.nodeflow.view.layouts.get(n).thumb", roomy)
    assert thumb is not None  # the picture went into the title bar instead
    x, y = page.evaluate(
        "([x, y]) => window.nodeflow.view.toScreen(x, y)", [thumb["x"] + thumb["w"] / 2, thumb["y"] + thumb["h"] / 2]
    )
    page.mouse.click(x, y)
    page.wait_for_selector("#lightbox:not([hidden])")
    page.keyboard.press("Escape")


def test_mask_an_output_image_with_half_opacity_into_a_new_load_image_node(page, server):
    clear_canvas(page)
    source = add_node(page, 150, 250, "EmptyImage")
    preview = add_node(page, 600, 200, "Preview Image")
    drag(page, slot(page, source, "out", 0), slot(page, preview, "in", "images"))
    set_widget(page, source, "width", "64")
    set_widget(page, source, "height", "64")
    queue_and_wait(page, preview)
    [url] = page.evaluate("(n) => window.nodeflow.nodeImages(n)", preview)
    r = rect(page, preview)
    page.mouse.click(r["x"] + 60, r["y"] + 12)  # select it, then Alt+M opens its image in the mask editor
    page.keyboard.press("Alt+m")
    page.wait_for_function("() => window.nodeflow.app.maskEditor && window.nodeflow.app.maskEditor.w === 64")
    # a hard brush (hardness 100) at half opacity, set from the keyboard on the sliders
    page.focus(".mask-toolbar input[name=hardness]")
    page.keyboard.press("End")
    page.focus(".mask-toolbar input[name=opacity]")
    page.keyboard.press("Home")
    for _ in range(49):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("() => [window.nodeflow.app.maskEditor.hardness, window.nodeflow.app.maskEditor.opacity]") == [
        1,
        0.5,
    ]
    box = page.locator(".mask-overlay").bounding_box()
    k = box["width"] / 64
    page.mouse.move(box["x"] + 20 * k, box["y"] + 32 * k)
    page.mouse.down()
    page.mouse.move(box["x"] + 44 * k, box["y"] + 32 * k, steps=6)
    page.mouse.up()
    alpha = page.evaluate("() => window.nodeflow.app.maskEditor.maskCtx.getImageData(32, 32, 1, 1).data[3]")
    assert 120 <= alpha <= 135  # half strength, however many dabs overlapped
    page.keyboard.press("Enter")  # save
    page.wait_for_selector(".mask-editor", state="detached")
    stem = url.split("filename=")[1].split("&")[0][:-4]
    page.wait_for_function("() => [...window.nodeflow.graph.nodes.values()].some(n => n.type === 'LoadImage')")
    created = page.evaluate(
        "() => [...window.nodeflow.graph.nodes.values()].find(n => n.type === 'LoadImage').widgets.image"
    )
    assert created == f"{stem}-mask.png"
    with Image.open(server["base"] / "input" / created) as saved:
        assert saved.getpixel((32, 32))[3] in range(120, 136) and saved.getpixel((2, 2))[3] == 255
    page.keyboard.press("Control+z")  # the new node is one undo step
    assert page.evaluate("() => [...window.nodeflow.graph.nodes.values()].some(n => n.type === 'LoadImage')") is False

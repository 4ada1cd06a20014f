"""The review's last editor defects (issue 19, /work review editor-ux-2026-12), in a real Chromium against a
real server: every test drives the editor with mouse and keyboard and checks what the user sees."""

from .conftest import add_node, drag, graph, nodes, rect, slot


def freeze_frames(page):
    """Hold animation frames back (a busy renderer): only what runs at the end of a task takes effect."""
    page.evaluate("() => { window._raf = window.requestAnimationFrame; window.requestAnimationFrame = () => 0; }")


def thaw_frames(page):
    page.evaluate("""() => { window.requestAnimationFrame = window._raf; const view = window.nodeflow.app.view;
        view.frameRequested = false; view.requestDraw(); }""")


def test_a_double_click_right_after_a_workflow_loads_opens_the_search_box(page):
    # the default workflow shows prompt boxes; the spot below is on one of them
    box = page.evaluate("""() => { const r = document.querySelector('textarea.text-widget').getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2]; }""")
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", box) == "TEXTAREA"
    freeze_frames(page)
    page.evaluate(
        """() => window.nodeflow.app.setGraph({format: 'nodeflow-workflow', version: 1, nodes: [], links: []}, 'test')"""
    )
    # no frame has been drawn since the load: the old prompt box must be gone all the same
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", box) == "CANVAS"
    page.mouse.dblclick(*box)
    page.wait_for_selector(".search-box input", timeout=3000)
    thaw_frames(page)
    page.keyboard.type("Empty Image")
    page.keyboard.press("Enter")
    assert [n["type"] for n in graph(page)["nodes"]] == ["EmptyImage"]


def test_a_prompt_box_of_a_deleted_node_goes_at_once(page):
    ids = page.evaluate("() => [...document.querySelectorAll('textarea.text-widget')].map(t => t.dataset.node)")
    assert ids
    node = ids[0]
    freeze_frames(page)
    page.evaluate("(n) => { const app = window.nodeflow.app; app.state.selection = new Set([n]); }", node)
    page.keyboard.press("Delete")
    assert node not in nodes(page)
    visible = page.evaluate(
        "(n) => [...document.querySelectorAll(`textarea.text-widget[data-node='${n}']`)].filter(t => t.offsetParent).length",
        node,
    )
    assert visible == 0
    thaw_frames(page)
    assert add_node(page, 700, 780, "Empty Image") in nodes(page)


def test_a_link_dropped_where_it_cannot_go_says_why(page):
    # review defect 32: MODEL dropped onto VAE Decode's vae input did nothing, without a word
    by_type = {n["type"]: n["id"] for n in graph(page)["nodes"]}
    loader, decode = by_type["CheckpointLoaderSimple"], by_type["VAEDecode"]
    links = len(graph(page)["links"])
    drag(page, slot(page, loader, "out", 0), slot(page, decode, "in", "vae"))
    toast = page.wait_for_selector(".toast.warning", timeout=3000)
    assert toast.inner_text() == "Not connected: MODEL cannot go into vae (it takes VAE)"
    assert len(graph(page)["links"]) == links
    # dropped on a node's body that has no input of the type: named too
    r = rect(page, decode)
    drag(page, slot(page, loader, "out", 0), (r["x"] + r["w"] / 2, r["y"] + r["h"] - 8))
    page.wait_for_selector(".toast.warning >> text=VAE Decode has no input that takes MODEL", timeout=3000)
    # a compatible drop connects and says nothing more
    before = page.locator(".toast").count()
    drag(page, slot(page, loader, "out", 2), slot(page, decode, "in", "vae"))
    assert page.locator(".toast").count() == before
    assert len(graph(page)["links"]) == links

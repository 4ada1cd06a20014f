"""Editor power features in a real browser against a real server: undo of every edit kind, clipboard,
link tools, groups/reroutes/notes, widget inputs, tabs and the workflow browser, history, keyboard,
minimap/snap and settings. Every test drives the UI with mouse and keyboard and checks the model."""

import pytest

from tests.helpers.editor_page import add_node, clear_canvas, drag, graph, nodes, rect, slot

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

DENY_CLIPBOARD = """(() => {
    const deny = () => Promise.reject(new DOMException('clipboard permission denied', 'NotAllowedError'));
    navigator.clipboard.readText = deny;
    navigator.clipboard.writeText = deny;
})();"""


def open_editor(context, url):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    page.errors = errors
    return page


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(viewport={"width": 1400, "height": 850}, bypass_csp=True, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def title_point(page, node_id, dx=40):
    r = rect(page, node_id)
    return r["x"] + dx, r["y"] + 12


def undo_redo(page, check_before, check_after):
    page.keyboard.press("Control+z")
    check_before()
    page.keyboard.press("Control+y")
    check_after()
    page.keyboard.press("Control+z")
    check_before()
    page.keyboard.press("Control+Shift+z")
    check_after()


def steps(page):
    return page.evaluate("() => window.nodeflow.app.stack.done.length")


# --- 1. undo/redo ------------------------------------------------------------------------------
def test_undo_redo_covers_every_edit_kind(page):
    clear_canvas(page)
    base = steps(page)
    a = add_node(page, 200, 250, "EmptyImage")
    assert steps(page) == base + 1
    undo_redo(page, lambda: assert_no(page, a), lambda: assert_has(page, a))
    b = add_node(page, 600, 250, "Invert Image")

    # move: one drag of many pointer moves is one undo step
    before = nodes(page)[a]["pos"]
    start = title_point(page, a)
    drag(page, start, (start[0] + 60, start[1] + 40))
    moved = nodes(page)[a]["pos"]
    assert moved != before
    undo_redo(page, lambda: pos_is(page, a, before), lambda: pos_is(page, a, moved))

    # connect, then disconnect by dragging the link off the input onto empty space
    drag(page, slot(page, a, "out", 0), slot(page, b, "in", "image"))
    assert len(graph(page)["links"]) == 1
    undo_redo(page, lambda: links_are(page, 0), lambda: links_are(page, 1))
    end = slot(page, b, "in", "image")
    drag(page, end, (end[0] - 120, end[1] + 260))
    page.keyboard.press("Escape")  # the search box that opened for the loose link
    assert len(graph(page)["links"]) == 0
    undo_redo(page, lambda: links_are(page, 1), lambda: links_are(page, 0))
    page.keyboard.press("Control+z")
    # re-routing a link from its input to the same input changes nothing and adds no step
    count = steps(page)
    end = slot(page, b, "in", "image")
    drag(page, end, (end[0] + 1, end[1] + 1))
    assert steps(page) == count and len(graph(page)["links"]) == 1

    # widget: typed value
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [a, "width"])
    page.mouse.click(x, y)
    page.wait_for_selector(".widget-editor").fill("64")
    page.keyboard.press("Enter")
    assert nodes(page)[a]["widgets"]["width"] == 64
    undo_redo(page, lambda: widget_is(page, a, "width", 512), lambda: widget_is(page, a, "width", 64))

    # widget: dragging a number is one step however far it goes
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [a, "height"])
    count = steps(page)
    drag(page, (x, y), (x + 90, y))
    assert nodes(page)[a]["widgets"]["height"] > 512 and steps(page) == count + 1
    dragged = nodes(page)[a]["widgets"]["height"]
    undo_redo(page, lambda: widget_is(page, a, "height", 512), lambda: widget_is(page, a, "height", dragged))

    # resize from the bottom-right corner, one step
    r = rect(page, b)
    size = nodes(page)[b]["size"]
    drag(page, (r["x"] + r["w"] - 4, r["y"] + r["h"] - 4), (r["x"] + r["w"] + 80, r["y"] + r["h"] + 50))
    resized = nodes(page)[b]["size"]
    assert resized[0] > size[0]
    undo_redo(page, lambda: size_is(page, b, size), lambda: size_is(page, b, resized))

    # mode (bypass) and delete
    page.mouse.click(*title_point(page, b))
    page.keyboard.press("Control+b")
    assert nodes(page)[b]["mode"] == "bypassed"
    undo_redo(page, lambda: mode_is(page, b, "active"), lambda: mode_is(page, b, "bypassed"))
    page.keyboard.press("Delete")
    assert b not in nodes(page) and graph(page)["links"] == []
    undo_redo(page, lambda: (assert_has(page, b), links_are(page, 1)), lambda: assert_no(page, b))


def test_control_after_generate_mode_is_undoable(page):
    clear_canvas(page)
    node = add_node(page, 300, 250, "Int")
    assert nodes(page)[node]["controls"]["value"] == "fixed"
    rows = page.evaluate(
        "(n) => window.nodeflow.view.layout(window.nodeflow.graph.nodes.get(n)).widgets.map(r => [r.control || false, r.y])",
        node,
    )
    control_y = next(y for control, y in rows if control)
    r = rect(page, node)
    _, sy = page.evaluate("([x, y]) => window.nodeflow.view.toScreen(x, y)", [0, control_y + 10])
    page.mouse.click(r["x"] + r["w"] / 2, sy)
    assert nodes(page)[node]["controls"]["value"] == "increment"
    undo_redo(page, lambda: control_is(page, node, "fixed"), lambda: control_is(page, node, "increment"))


# --- 2. copy / paste / duplicate --------------------------------------------------------------
def build_chain(page):
    clear_canvas(page)
    a = add_node(page, 200, 250, "EmptyImage")
    b = add_node(page, 600, 250, "Invert Image")
    drag(page, slot(page, a, "out", 0), slot(page, b, "in", "image"))
    page.evaluate("(n) => { window.nodeflow.graph.nodes.get(n).widgets.width = 33; }", a)
    return a, b


def to_graph(page, x, y):
    return page.evaluate("([x, y]) => window.nodeflow.view.toGraph(x, y)", [x, y])


def test_copy_in_one_page_paste_in_another_through_the_system_clipboard(context_factory, server):
    context = context_factory(permissions=["clipboard-read", "clipboard-write"])
    first, second = open_editor(context, server["url"]), open_editor(context, server["url"])
    first.bring_to_front()
    build_chain(first)
    first.mouse.click(700, 650)  # focus the canvas
    first.keyboard.press("Control+a")
    first.keyboard.press("Control+c")
    first.wait_for_selector(".toast >> text=Copied 2 nodes")
    assert '"nodeflow-clipboard"' in first.evaluate("() => navigator.clipboard.readText()")

    second.bring_to_front()
    clear_canvas(second)
    second.evaluate("() => localStorage.removeItem('nodeflow.clipboard')")  # only the system clipboard is left
    second.mouse.move(500, 400)
    second.keyboard.press("Control+v")
    second.wait_for_function("() => window.nodeflow.graph.nodes.size === 2")
    pasted = graph(second)
    by_type = {n["type"]: n for n in pasted["nodes"]}
    assert by_type["EmptyImage"]["widgets"]["width"] == 33
    assert [(link["from"][0], link["to"]) for link in pasted["links"]] == [
        (by_type["EmptyImage"]["id"], [by_type["ImageInvert"]["id"], "image"])
    ]
    gx, gy = to_graph(second, 500, 400)
    left = min(n["pos"][0] for n in pasted["nodes"])
    top = min(n["pos"][1] for n in pasted["nodes"])
    assert abs(left - gx) < 1 and abs(top - gy) < 1
    steps_before = steps(second)
    second.keyboard.press("Control+z")
    assert graph(second)["nodes"] == [] and steps(second) == steps_before - 1
    assert first.errors == [] and second.errors == []


def test_paste_with_outside_links_and_duplicate(context_factory, server):
    context = context_factory(permissions=["clipboard-read", "clipboard-write"])
    page = open_editor(context, server["url"])
    a, b = build_chain(page)
    page.mouse.click(*title_point(page, b))  # select only the Invert node
    page.keyboard.press("Control+c")
    page.wait_for_selector(".toast >> text=Copied 1 node")
    page.mouse.move(600, 600)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 3")
    plain = next(n for n in nodes(page) if n not in (a, b))
    assert not any(link["to"][0] == plain for link in graph(page)["links"])
    page.mouse.move(900, 600)
    page.keyboard.press("Control+Shift+v")
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 4")
    linked = next(n for n in nodes(page) if n not in (a, b, plain))
    assert any(link["from"][0] == a and link["to"] == [linked, "image"] for link in graph(page)["links"])
    # Ctrl+D duplicates the selection (the last paste) next to it, keeping internal links only
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+d")
    after = graph(page)
    assert len(after["nodes"]) == 8 and len(after["links"]) == 4  # 2 originals + 2 copies of the chain link
    assert page.evaluate("() => window.nodeflow.app.state.selection.size") == 4
    page.keyboard.press("Control+z")
    assert len(graph(page)["nodes"]) == 4
    assert page.errors == []


def test_clipboard_falls_back_to_the_in_page_buffer_without_permission(context_factory, server):
    context = context_factory()
    context.add_init_script(DENY_CLIPBOARD)
    page = open_editor(context, server["url"])
    _a, _b = build_chain(page)
    page.mouse.click(700, 650)
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.wait_for_selector(".toast >> text=in-page clipboard")
    page.mouse.move(400, 600)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.nodeflow.graph.nodes.size === 4")
    assert len(graph(page)["links"]) == 2
    other = open_editor(context, server["url"])  # another tab of the same browser profile
    clear_canvas(other)
    other.mouse.move(300, 300)
    other.keyboard.press("Control+v")
    other.wait_for_function("() => window.nodeflow.graph.nodes.size === 2")
    assert len(graph(other)["links"]) == 1
    assert page.errors == [] and other.errors == []


# --- 3. link tools ----------------------------------------------------------------------------
def test_dropping_a_link_on_empty_canvas_searches_and_connects_the_matching_slot(page):
    clear_canvas(page)
    mask = add_node(page, 200, 200, "SolidMask")
    start = slot(page, mask, "out", 0)
    drag(page, start, (start[0] + 300, start[1] + 250))
    field = page.wait_for_selector(".search-box input")
    assert "MASK" in field.get_attribute("placeholder")
    listed = page.inner_text(".search-box ul")
    assert "ImageCompositeMasked" in listed and "Invert Image" not in listed  # filtered to nodes taking a MASK
    count = steps(page)
    page.keyboard.type("ImageCompositeMasked")
    page.keyboard.press("Enter")
    composite = page.evaluate("() => [...window.nodeflow.graph.nodes.values()].at(-1).id")
    assert [(link["from"], link["to"]) for link in graph(page)["links"]] == [([mask, 0], [composite, "mask"])]
    assert steps(page) == count + 1  # the new node and its link are one undo step
    page.keyboard.press("Control+z")
    assert list(nodes(page)) == [mask] and graph(page)["links"] == []

    # from an input: the search lists nodes with a matching output and connects that output
    blend = add_node(page, 700, 200, "ImageBlend")
    end = slot(page, blend, "in", "image2")
    drag(page, end, (end[0] - 250, end[1] + 300))
    page.wait_for_selector(".search-box input")
    page.keyboard.type("EmptyImage")
    page.keyboard.press("Enter")
    source = page.evaluate("() => [...window.nodeflow.graph.nodes.values()].at(-1).id")
    assert [(link["from"], link["to"]) for link in graph(page)["links"]] == [([source, 0], [blend, "image2"])]


def test_shift_drag_from_an_output_moves_all_its_links(page):
    clear_canvas(page)
    a = add_node(page, 150, 150, "EmptyImage")
    d = add_node(page, 150, 500, "EmptyImage")
    b = add_node(page, 650, 100, "Invert Image")
    c = add_node(page, 650, 400, "Invert Image")
    drag(page, slot(page, a, "out", 0), slot(page, b, "in", "image"))
    drag(page, slot(page, a, "out", 0), slot(page, c, "in", "image"))
    page.keyboard.down("Shift")
    drag(page, slot(page, a, "out", 0), slot(page, d, "out", 0))
    page.keyboard.up("Shift")

    def sources():
        return sorted((link["from"][0], link["to"][0]) for link in graph(page)["links"])

    assert sources() == sorted([(d, b), (d, c)])
    page.keyboard.press("Control+z")
    assert sources() == sorted([(a, b), (a, c)])


# --- 4. groups, reroutes, notes ------------------------------------------------------------------
def groups(page):
    return graph(page)["groups"]


def group_point(page, index, where="title"):
    """Screen point on group `index`: its title bar or its bottom-right resize corner."""
    return page.evaluate(
        """([i, where]) => { const [x, y, w, h] = window.nodeflow.graph.groups[i].bounding;
        return where === 'title' ? window.nodeflow.view.toScreen(x + w / 2, y + 12) : window.nodeflow.view.toScreen(x + w - 5, y + h - 5); }""",
        [index, where],
    )


def menu(page, label):
    page.click(f".context-menu li >> text='{label}'")


def test_groups_create_title_colour_move_resize_nest_and_undo(page):
    clear_canvas(page)
    a = add_node(page, 200, 200, "EmptyImage")
    b = add_node(page, 650, 200, "Invert Image")
    page.mouse.click(*title_point(page, a))
    page.keyboard.press("Control+g")
    assert [g["title"] for g in groups(page)] == ["Group"]
    inner = groups(page)[0]["bounding"]
    ax, ay = nodes(page)[a]["pos"]
    assert inner[0] < ax and inner[1] < ay and inner[0] + inner[2] > ax + 200

    # double-click the title to edit it; markup is just text
    page.mouse.dblclick(*group_point(page, 0))
    field = page.wait_for_selector("input.widget-editor")
    field.fill("<b>Inputs</b>")
    page.keyboard.press("Enter")
    assert groups(page)[0]["title"] == "<b>Inputs</b>"
    assert page.evaluate("() => document.querySelectorAll('#overlays b').length") == 0

    # colour from the group's context menu
    page.mouse.click(*group_point(page, 0), button="right")
    page.hover(".context-menu li >> text='Colour'")
    menu(page, "red")
    assert groups(page)[0]["color"] == "#a1453f"

    # a group around everything encloses the first: nested, drawn below it
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+g")
    assert [g["title"] for g in groups(page)] == ["Group", "<b>Inputs</b>"]

    # dragging the outer group's title moves both nodes and the inner group, as one undo step
    before = {n: nodes(page)[n]["pos"] for n in (a, b)}
    inner_before = groups(page)[1]["bounding"]
    start = group_point(page, 0)
    drag(page, start, (start[0] + 50, start[1] + 80))
    scale = page.evaluate("() => window.nodeflow.graph.viewport.scale")
    moved = {n: nodes(page)[n]["pos"] for n in (a, b)}
    for n in (a, b):
        assert abs(moved[n][0] - before[n][0] - 50 / scale) < 1 and abs(moved[n][1] - before[n][1] - 80 / scale) < 1
    assert abs(groups(page)[1]["bounding"][0] - inner_before[0] - 50 / scale) < 1
    page.keyboard.press("Control+z")
    assert {n: nodes(page)[n]["pos"] for n in (a, b)} == before and groups(page)[1]["bounding"] == inner_before
    page.keyboard.press("Control+y")

    # dragging the inner group moves only its node
    start = group_point(page, 1)
    drag(page, start, (start[0], start[1] + 60))
    assert nodes(page)[b]["pos"] == moved[b] and nodes(page)[a]["pos"][1] > moved[a][1]

    # resize from the corner, undo
    size = groups(page)[0]["bounding"][2:]
    corner = group_point(page, 0, "corner")
    drag(page, corner, (corner[0] + 70, corner[1] + 40))
    assert groups(page)[0]["bounding"][2] > size[0] and groups(page)[0]["bounding"][3] > size[1]
    page.keyboard.press("Control+z")
    assert groups(page)[0]["bounding"][2:] == size

    # remove the inner group from its menu (nodes stay), then undo
    page.mouse.click(*group_point(page, 1), button="right")
    menu(page, "Remove group (keep nodes)")
    assert [g["title"] for g in groups(page)] == ["Group"] and len(nodes(page)) == 2
    page.keyboard.press("Control+z")
    assert [g["title"] for g in groups(page)] == ["Group", "<b>Inputs</b>"]

    # groups survive a reload (autosave) with their titles and colours
    page.wait_for_timeout(700)
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'")
    assert [(g["title"], g["color"]) for g in groups(page)] == [("Group", "#3f789e"), ("<b>Inputs</b>", "#a1453f")]


def queued_prompt(page):
    with page.expect_request(lambda r: r.url.endswith("/prompt") and r.method == "POST") as request:
        page.click("#queue-button")
    import json

    return json.loads(request.value.post_data)


def test_reroute_on_a_link_and_notes_never_reach_the_prompt(page):
    clear_canvas(page)
    a = add_node(page, 200, 200, "EmptyImage")
    b = add_node(page, 800, 450, "Save Image")
    drag(page, slot(page, a, "out", 0), slot(page, b, "in", "images"))
    start, end = slot(page, a, "out", 0), slot(page, b, "in", "images")
    count = steps(page)
    page.mouse.click((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)  # the handle in the link's middle
    menu(page, "Add reroute")
    reroute = [n for n, v in nodes(page).items() if v["type"] == "Reroute"]
    assert reroute == [] and steps(page) == count + 1  # saved form: no Reroute node, a via point instead
    saved = graph(page)
    assert len(saved["links"]) == 1 and saved["links"][0]["from"] == [a, 0] and len(saved["links"][0]["via"]) == 1
    live = page.evaluate(
        "() => [...window.nodeflow.graph.nodes.values()].filter(n => n.type === 'Reroute').map(n => n.id)"
    )
    assert len(live) == 1
    # the reroute can be dragged like a node; the via point follows
    r = rect(page, live[0])
    drag(page, (r["x"] + r["w"] / 2, r["y"] + r["h"] / 2), (r["x"] + r["w"] / 2, r["y"] + 200))
    assert graph(page)["links"][0]["via"][0][1] > saved["links"][0]["via"][0][1] + 100

    note = add_node(page, 300, 600, "Note")
    x, y = page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [note, "text"])
    page.mouse.click(x, y)
    page.wait_for_selector("textarea.widget-editor")
    page.keyboard.type("<script>window.__xss = 1</script> remember")
    page.mouse.click(1300, 120)  # leave the editor
    saved = graph(page)
    assert [n["text"] for n in saved["notes"]] == ["<script>window.__xss = 1</script> remember"]
    assert all(n["type"] not in ("Note", "Reroute") for n in saved["nodes"])
    page.keyboard.press("Control+z")  # the whole typing session is one step
    assert graph(page)["notes"][0]["text"] == ""
    page.keyboard.press("Control+y")

    sent = queued_prompt(page)
    assert {v["class_type"] for v in sent["prompt"].values()} == {"EmptyImage", "SaveImage"}
    assert sent["prompt"][b]["inputs"]["images"] == [a, 0]
    assert page.evaluate("() => window.__xss") is None


# --- 5. widget inputs, primitives, bulk mute/bypass ------------------------------------------------
def widget_point(page, node_id, name):
    return page.evaluate("([n, w]) => window.nodeflow.widgetPosition(n, w)", [node_id, name])


def inputs_of(page, node_id):
    return page.evaluate("(n) => window.nodeflow.graph.nodes.get(n).inputs.map(i => i.name)", node_id)


def test_widgets_convert_to_inputs_and_a_primitive_feeds_several(page):
    clear_canvas(page)
    empty = add_node(page, 550, 200, "EmptyImage")
    save = add_node(page, 1000, 200, "Save Image")
    drag(page, slot(page, empty, "out", 0), slot(page, save, "in", "images"))
    for name in ("width", "height"):
        page.mouse.click(*widget_point(page, empty, name), button="right")
        menu(page, f"Convert {name} to input")
    assert inputs_of(page, empty) == ["width", "height"]
    assert widget_point(page, empty, "width") is None  # no longer drawn as a widget
    page.keyboard.press("Control+z")
    assert inputs_of(page, empty) == ["width"]
    page.keyboard.press("Control+y")

    primitive = add_node(page, 150, 450, "Primitive")
    drag(page, slot(page, primitive, "out", 0), slot(page, empty, "in", "width"))
    drag(page, slot(page, primitive, "out", 0), slot(page, empty, "in", "height"))
    assert sorted(link["to"][1] for link in graph(page)["links"] if link["from"][0] == primitive) == ["height", "width"]
    assert nodes(page)[primitive]["widgets"]["value"] == 512  # taken from the first widget it feeds
    page.mouse.click(*widget_point(page, primitive, "value"))
    page.wait_for_selector(".widget-editor").fill("40")
    page.keyboard.press("Enter")
    sent = queued_prompt(page)["prompt"]
    assert primitive not in sent
    assert sent[empty]["inputs"]["width"] == 40 and sent[empty]["inputs"]["height"] == 40
    saved = nodes(page)[empty]
    assert saved["converted"] == ["width", "height"] and saved["widgets"]["width"] == 40

    # back to a widget from the input's menu: the link goes too, in one undo step
    x, y = slot(page, empty, "in", "height")
    page.mouse.click(x, y, button="right")
    menu(page, "Convert height to widget")
    assert inputs_of(page, empty) == ["width"] and widget_point(page, empty, "height") is not None
    assert [link["to"][1] for link in graph(page)["links"] if link["from"][0] == primitive] == ["width"]
    page.keyboard.press("Control+z")
    assert inputs_of(page, empty) == ["width", "height"] and len(graph(page)["links"]) == 3


def test_bulk_mute_and_bypass_of_the_selection(page):
    clear_canvas(page)
    ids = [add_node(page, 200 + 350 * i, 250, "EmptyImage") for i in range(3)]
    page.mouse.click(*title_point(page, ids[0]))
    page.keyboard.down("Shift")
    page.mouse.click(*title_point(page, ids[1]))
    page.keyboard.up("Shift")

    def modes():
        return [nodes(page)[n]["mode"] for n in ids]

    page.keyboard.press("Control+m")
    assert modes() == ["muted", "muted", "active"]
    page.keyboard.press("Control+m")
    assert modes() == ["active", "active", "active"]
    page.keyboard.press("Control+b")
    assert modes() == ["bypassed", "bypassed", "active"]
    page.keyboard.press("Control+z")
    assert modes() == ["active", "active", "active"]


# --- 6. tabs and the workflow browser ----------------------------------------------------------
def tab_names(page):
    return page.eval_on_selector_all(
        "#tabs .tab",
        "els => els.map(e => e.querySelector('.tab-name').textContent + (e.classList.contains('dirty') ? '*' : ''))",
    )


def click_tab(page, index):
    page.locator("#tabs .tab").nth(index).click()


def test_tabs_keep_their_own_history_viewport_and_dirty_state(page):
    clear_canvas(page)
    first = add_node(page, 300, 300, "EmptyImage")
    page.click("#tabs .tab-new")
    assert len(tab_names(page)) == 2 and graph(page)["nodes"] == []
    second = add_node(page, 400, 250, "Invert Image")
    third = add_node(page, 700, 450, "Save Image")
    drag(page, (1200, 700), (1100, 600))  # pan this tab only
    offset = graph(page)["viewport"]["offset"]
    assert tab_names(page)[1].endswith("*")
    page.keyboard.press("Control+z")
    assert list(nodes(page)) == [second]
    click_tab(page, 0)
    assert list(nodes(page)) == [first] and graph(page)["viewport"]["offset"] != offset
    page.keyboard.press("Control+z")
    assert graph(page)["nodes"] == []
    page.keyboard.press("Control+y")
    click_tab(page, 1)
    assert list(nodes(page)) == [second] and graph(page)["viewport"]["offset"] == offset
    page.keyboard.press("Control+y")
    assert sorted(nodes(page)) == sorted([second, third])

    # closing a tab with unsaved changes asks: Cancel keeps it, Discard closes it
    page.locator("#tabs .tab").nth(1).locator(".tab-close").click()
    page.wait_for_selector(".dialog")
    assert "unsaved" in page.inner_text(".dialog").lower() or "not saved" in page.inner_text(".dialog")
    page.click(".dialog button[data-value='null']")
    assert len(tab_names(page)) == 2
    page.locator("#tabs .tab").nth(1).locator(".tab-close").click()
    page.click(".dialog button[data-value='discard']")
    assert len(tab_names(page)) == 1 and list(nodes(page)) == [first]

    # open tabs come back after a reload
    page.click("#tabs .tab-new")
    add_node(page, 500, 300, "Note")
    page.wait_for_timeout(700)
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'")
    assert len(tab_names(page)) == 2 and len(graph(page)["notes"]) == 1


def answer(page, text):
    field = page.wait_for_selector(".dialog input")
    field.fill(text)
    page.keyboard.press("Enter")
    page.wait_for_selector(".dialog", state="detached")


def wait_active_tab(page, name):
    page.wait_for_function(
        "(name) => document.querySelector('#tabs .tab.active .tab-name').textContent === name", arg=name
    )


def test_workflow_browser_save_rename_open_delete_round_trip(page, server):
    folder = server["base"] / "user" / "default" / "workflows"
    clear_canvas(page)
    node = add_node(page, 300, 300, "EmptyImage")
    page.click("#workflows-toggle")
    page.wait_for_selector("#workflow-panel li.empty")
    page.mouse.click(900, 600)
    page.keyboard.press("Control+s")  # not saved yet: asks for a name
    answer(page, "Round <trip>")
    wait_active_tab(page, "Round <trip>")
    saved = folder / "Round <trip>.json"
    assert saved.exists() and tab_names(page)[-1] == "Round <trip>"
    import json

    assert json.loads(saved.read_text())["nodes"][0]["id"] == node
    page.wait_for_selector("#workflow-panel li[data-path='workflows/Round <trip>.json']")
    assert page.inner_text("#workflow-panel ul").count("Round <trip>") == 1

    # an edit makes it dirty; Ctrl+S now saves to the same file without asking
    page.evaluate(
        "(n) => window.nodeflow.app.run({label: 'x', do(g) { g.nodes.get(n).widgets.width = 99; }, undo(g) {}})", node
    )
    assert tab_names(page)[-1] == "Round <trip>*"
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('#tabs .tab.active').classList.contains('dirty')")
    assert json.loads(saved.read_text())["nodes"][0]["widgets"]["width"] == 99

    # rename from the browser: the file moves and the open tab follows
    page.click("#workflow-panel li[data-path='workflows/Round <trip>.json'] .wf-rename")
    answer(page, "renamed")
    page.wait_for_selector("#workflow-panel li[data-path='workflows/renamed.json']")
    wait_active_tab(page, "renamed")
    assert not saved.exists() and (folder / "renamed.json").exists()
    assert tab_names(page)[-1] == "renamed"

    # close the tab, open the workflow again from the browser
    page.locator("#tabs .tab.active .tab-close").click()
    page.click("#workflow-panel li[data-path='workflows/renamed.json'] .wf-open")
    page.wait_for_function("() => document.querySelector('#tabs .tab.active .tab-name').textContent === 'renamed'")
    assert nodes(page)[node]["widgets"]["width"] == 99 and not tab_names(page)[-1].endswith("*")

    # save as a copy, then delete the original (after confirming)
    page.click("#wf-save-as")
    answer(page, "copy")
    wait_active_tab(page, "copy")
    assert (folder / "copy.json").exists()
    page.click("#workflow-panel li[data-path='workflows/renamed.json'] .wf-delete")
    page.click(".dialog button[data-value='true']")
    page.wait_for_selector("#workflow-panel li[data-path='workflows/renamed.json']", state="detached")
    assert not (folder / "renamed.json").exists()
    assert [p.name for p in folder.iterdir()] == ["copy.json"]


# --- 7. history -------------------------------------------------------------------------------
def test_history_panel_shows_a_finished_run_and_loads_its_workflow(page):
    clear_canvas(page)
    source = add_node(page, 200, 250, "EmptyImage")
    save = add_node(page, 700, 250, "Save Image")
    drag(page, slot(page, source, "out", 0), slot(page, save, "in", "images"))
    page.evaluate(
        """([a, b]) => { const g = window.nodeflow.graph;
        Object.assign(g.nodes.get(a).widgets, {width: 24, height: 16, color: 16711680});
        g.nodes.get(b).widgets.filename_prefix = 'history'; g.nodes.get(b).title = 'Keep <me>'; }""",
        [source, save],
    )
    with page.expect_response(lambda r: r.url.endswith("/prompt") and r.request.method == "POST") as response:
        page.click("#queue-button")
    prompt_id = response.value.json()["prompt_id"]
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=save, timeout=30000)

    page.mouse.click(1000, 650)
    page.keyboard.press("h")
    item = page.wait_for_selector(f"#history-panel li[data-prompt='{prompt_id}']")
    thumb = item.query_selector("img.thumb")
    assert "/view?" in thumb.get_attribute("src") and "history_" in thumb.get_attribute("src")
    page.wait_for_function(
        "(id) => document.querySelector(`#history-panel li[data-prompt='${id}'] img`).naturalWidth === 24",
        arg=prompt_id,
    )
    item.click()
    page.wait_for_selector("#history-panel img.history-image")
    page.click("#history-panel .history-load")
    page.wait_for_function(
        "() => document.querySelector('#tabs .tab.active .tab-name').textContent.startsWith('Run #')"
    )
    loaded = nodes(page)
    assert {n["type"] for n in loaded.values()} == {"EmptyImage", "SaveImage"}
    assert loaded[source]["widgets"]["width"] == 24 and loaded[save]["title"] == "Keep <me>"
    assert graph(page)["links"][0]["to"] == [save, "images"]

    page.click("#history-gallery")
    images = page.query_selector_all("#history-panel img.gallery-image")
    assert images
    images[-1].click() if "history_" in images[-1].get_attribute("src") else next(
        i for i in images if "history_" in i.get_attribute("src")
    ).click()
    assert page.is_visible("#lightbox") and "history_" in page.get_attribute("#lightbox-image", "src")


# --- 8. keyboard -------------------------------------------------------------------------------
def test_shortcuts_help_nudging_select_all_and_fit(page):
    clear_canvas(page)
    a = add_node(page, 300, 300, "EmptyImage")
    b = add_node(page, 700, 300, "Invert Image")
    page.mouse.click(900, 700)
    page.keyboard.press("?")
    help_text = page.inner_text(".shortcuts-help")
    for expected in ("Ctrl+K", "Command palette", "Ctrl+Shift+V", "Ctrl+G", "Nudge selection left", "Shift+drag"):
        assert expected in help_text
    page.keyboard.press("Escape")
    assert page.query_selector(".shortcuts-help") is None

    page.mouse.click(*title_point(page, a))
    start = nodes(page)[a]["pos"]
    count = steps(page)
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "Shift+ArrowRight"):
        page.keyboard.press(key)
    assert nodes(page)[a]["pos"] == [start[0] + 40, start[1] + 10] and nodes(page)[b]["pos"] != start
    assert steps(page) == count + 1  # a run of nudges is one undo step
    page.keyboard.press("Control+z")
    assert nodes(page)[a]["pos"] == start

    page.keyboard.press("Control+a")
    assert page.evaluate("() => window.nodeflow.app.state.selection.size") == 2
    page.evaluate("() => { window.nodeflow.graph.viewport = {offset: [-5000, -5000], scale: 2}; }")
    page.keyboard.press(".")
    for node_id in (a, b):
        r = rect(page, node_id)
        assert r["x"] >= 0 and r["x"] + r["w"] <= 1400 and r["y"] >= 79 and r["y"] + r["h"] <= 850


def test_command_palette_lists_every_action_and_runs_one(page):
    clear_canvas(page)
    add_node(page, 300, 300, "EmptyImage")
    page.mouse.click(900, 700)
    page.keyboard.press("Control+k")
    page.wait_for_selector(".palette input")
    listed = page.eval_on_selector_all(".palette li", "els => els.map(e => e.dataset.action)")
    registered = page.evaluate("() => window.nodeflow.app.actions.actions.filter(a => !a.hidden).map(a => a.id)")
    assert sorted(listed) == sorted(registered) and len(listed) > 30
    page.keyboard.type("nwtab")  # fuzzy: "New workflow tab"
    assert page.get_attribute(".palette li.active", "data-action") == "new-tab"
    tabs_before = len(tab_names(page))
    page.keyboard.press("Enter")
    assert len(tab_names(page)) == tabs_before + 1 and page.query_selector(".palette") is None
    page.keyboard.press("Control+k")
    page.keyboard.type("undo")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert page.get_attribute(".palette li.active", "data-action") == "undo"
    page.keyboard.press("Escape")
    assert page.query_selector(".palette") is None


# --- 9. minimap and snap -----------------------------------------------------------------------
def test_minimap_toggle_and_click_to_move_the_view(page):
    clear_canvas(page)
    add_node(page, 200, 200, "EmptyImage")
    far = add_node(page, 1200, 700, "Invert Image")
    page.evaluate(
        "(n) => { window.nodeflow.graph.nodes.get(n).pos = [4000, 3000]; window.nodeflow.app.changed(); }", far
    )
    assert not page.is_visible("#minimap")
    page.mouse.click(700, 500)
    page.keyboard.press("m")
    page.wait_for_selector("#minimap", state="visible")
    assert page.get_attribute("#toggle-minimap", "aria-pressed") == "true"
    page.wait_for_function("() => window.nodeflow.app.viewControls.minimap.frame !== null")
    box = page.query_selector("#minimap").bounding_box()
    target = (box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.8)
    gx, gy = page.evaluate("([x, y]) => window.nodeflow.app.viewControls.minimap.toGraph(x, y)", list(target))
    page.mouse.click(*target)
    canvas = page.query_selector("#canvas").bounding_box()
    cx, cy = to_graph(page, canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    assert abs(cx - gx) < 2 and abs(cy - gy) < 2 and cx > 1500  # the view went towards the far node
    page.click("#toggle-minimap")
    assert not page.is_visible("#minimap")


def test_snap_to_grid_toggle(page):
    clear_canvas(page)
    node = add_node(page, 300, 300, "EmptyImage")
    page.evaluate(
        "(n) => { window.nodeflow.graph.nodes.get(n).pos = [3, 7]; window.nodeflow.graph.viewport = {offset: [100, 100], scale: 1}; window.nodeflow.app.changed(); }",
        node,
    )
    page.click("#toggle-snap")
    assert page.evaluate("() => window.nodeflow.app.settings.snap") is True
    start = title_point(page, node)
    drag(page, start, (start[0] + 37, start[1] + 23))
    x, y = nodes(page)[node]["pos"]
    assert x % 20 == 0 and y % 20 == 0 and (x, y) == (40, 40)
    r = rect(page, node)
    drag(page, (r["x"] + r["w"] - 4, r["y"] + r["h"] - 4), (r["x"] + r["w"] + 33, r["y"] + r["h"] + 11))
    w, h = nodes(page)[node]["size"]
    assert w % 20 == 0 and h % 20 == 0
    page.mouse.click(1200, 700)
    page.keyboard.press("Shift+s")
    assert page.evaluate("() => window.nodeflow.app.settings.snap") is False
    start = title_point(page, node)
    drag(page, start, (start[0] + 7, start[1] + 3))
    assert nodes(page)[node]["pos"] == [47, 43]


# --- 10. settings --------------------------------------------------------------------------------
def test_settings_are_saved_on_the_server_and_come_back_after_a_reload(page, server):
    import json

    settings_file = server["base"] / "user" / "default" / "nodeflow.settings.json"
    workflow_file = server["base"] / "user" / "default" / "workflows" / "autosaved.json"
    try:
        clear_canvas(page)
        node = add_node(page, 300, 300, "EmptyImage")
        page.click("#settings-toggle")
        page.select_option("#settings-panel select[name=theme]", "light")
        page.select_option("#settings-panel select[name=linkStyle]", "straight")
        page.check("#settings-panel input[name=snap]")
        page.check("#settings-panel input[name=autosave]")
        assert page.evaluate("() => document.body.dataset.theme") == "light"
        assert page.evaluate("() => window.nodeflow.view.theme.background") == "#f4f5f7"
        expected = {"theme": "light", "linkStyle": "straight", "snap": True, "autosave": True}
        for _ in range(50):  # saved a moment after the last change
            stored = json.loads(settings_file.read_text()) if settings_file.exists() else {}
            if all(stored.get(k) == v for k, v in expected.items()):
                break
            page.wait_for_timeout(100)
        assert all(stored.get(k) == v for k, v in expected.items()), stored

        # autosave: once the tab has a file, edits are written without Ctrl+S
        page.mouse.click(900, 650)
        page.keyboard.press("Control+s")
        answer(page, "autosaved")
        wait_active_tab(page, "autosaved")
        start = title_point(page, node)
        drag(page, start, (start[0] + 100, start[1]))
        page.wait_for_function(
            "() => !document.querySelector('#tabs .tab.active').classList.contains('dirty')", timeout=5000
        )
        assert json.loads(workflow_file.read_text())["nodes"][0]["pos"] == nodes(page)[node]["pos"]

        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'true'")
        assert page.evaluate("() => document.body.dataset.theme") == "light"
        assert page.evaluate("() => [window.nodeflow.view.linkStyle, window.nodeflow.app.settings.snap]") == [
            "straight",
            True,
        ]
        page.click("#settings-toggle")
        assert page.input_value("#settings-panel select[name=theme]") == "light"
        assert page.is_checked("#settings-panel input[name=autosave]")
    finally:
        settings_file.unlink(missing_ok=True)
        workflow_file.unlink(missing_ok=True)


def assert_has(page, node_id):
    assert node_id in nodes(page)


def assert_no(page, node_id):
    assert node_id not in nodes(page)


def pos_is(page, node_id, pos):
    assert nodes(page)[node_id]["pos"] == pos


def size_is(page, node_id, size):
    assert nodes(page)[node_id]["size"] == size


def links_are(page, count):
    assert len(graph(page)["links"]) == count


def widget_is(page, node_id, name, value):
    assert nodes(page)[node_id]["widgets"][name] == value


def mode_is(page, node_id, mode):
    assert nodes(page)[node_id]["mode"] == mode


def control_is(page, node_id, mode):
    assert nodes(page)[node_id]["controls"]["value"] == mode

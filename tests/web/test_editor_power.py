"""Editor power features in a real browser against a real server: undo of every edit kind, clipboard,
link tools, groups/reroutes/notes, widget inputs, tabs and the workflow browser, history, keyboard,
minimap/snap and settings. Every test drives the UI with mouse and keyboard and checks the model."""
from .conftest import add_node, clear_canvas, drag, slot


def graph(page):
    return page.evaluate("() => window.nodeflow.graph.toJSON()")


def nodes(page):
    return {n["id"]: n for n in graph(page)["nodes"]}


def rect(page, node_id):
    return page.evaluate("(n) => window.nodeflow.nodeRect(n)", node_id)


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
    rows = page.evaluate("(n) => window.nodeflow.view.layout(window.nodeflow.graph.nodes.get(n)).widgets.map(r => [r.control || false, r.y])", node)
    control_y = [y for control, y in rows if control][0]
    r = rect(page, node)
    _, sy = page.evaluate("([x, y]) => window.nodeflow.view.toScreen(x, y)", [0, control_y + 10])
    page.mouse.click(r["x"] + r["w"] / 2, sy)
    assert nodes(page)[node]["controls"]["value"] == "increment"
    undo_redo(page, lambda: control_is(page, node, "fixed"), lambda: control_is(page, node, "increment"))


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

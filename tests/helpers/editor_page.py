"""Drive the editor in a Playwright page as a user does (double-click search, drags between slots) and
read its state back (the open workflow, node boxes, slot positions)."""

from tests.helpers.server_process import ROOT

ARTIFACTS = ROOT / "test-artifacts"  # a screenshot of every editor test, for a person to look at


def clear_canvas(page):
    page.evaluate("""() => { const app = window.nodeflow.app;
        app.setGraph({format: 'nodeflow-workflow', version: 1, nodes: [], links: []}, 'test'); }""")


def add_node(page, x, y, query):
    # One double-click, no retry: a lost one is an editor bug (it was: a prompt box of the workflow just
    # replaced caught the first click until the next frame; tests/web/test_editor_review.py keeps it fixed).
    page.mouse.dblclick(x, y)
    page.wait_for_selector(".search-box input", timeout=5000)
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

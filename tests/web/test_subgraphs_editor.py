"""Subgraphs in the editor, in a real Chromium against a real server: convert a selection, open it
(breadcrumb back out), edit inside with undo, promote a widget, save it to the library and reuse it
from node search in another tab, run it (the inner preview shows on the instance), unpack it, and
queue only the selected output nodes (partial execution) from the keyboard and the node menu."""

import json
import urllib.request

import jsonschema
import pytest

from nodeflow.workflow.model import SCHEMA
from tests.helpers.editor_page import clear_canvas, graph, nodes

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

WORKFLOW = {
    "format": "nodeflow-workflow",
    "version": 2,
    "viewport": {"offset": [0, 0], "scale": 1},
    "nodes": [
        {
            "id": "1",
            "type": "EmptyImage",
            "pos": [30, 300],
            "widgets": {"width": 32, "height": 32, "batch_size": 1, "color": 0},
        },
        {"id": "2", "type": "ImageInvert", "pos": [330, 120]},
        {
            "id": "3",
            "type": "ImageScaleBy",
            "pos": [600, 120],
            "widgets": {"upscale_method": "nearest-exact", "scale_by": 2.0},
        },
        {"id": "6", "type": "PreviewImage", "pos": [900, 40]},
        {"id": "4", "type": "PreviewImage", "pos": [900, 420]},
        {"id": "5", "type": "SaveImage", "pos": [330, 560], "widgets": {"filename_prefix": "selected"}},
    ],
    "links": [
        {"id": 1, "from": ["1", 0], "to": ["2", "image"], "type": "IMAGE"},
        {"id": 2, "from": ["2", 0], "to": ["3", "image"], "type": "IMAGE"},
        {"id": 3, "from": ["3", 0], "to": ["6", "images"], "type": "IMAGE"},
        {"id": 4, "from": ["3", 0], "to": ["4", "images"], "type": "IMAGE"},
        {"id": 5, "from": ["1", 0], "to": ["5", "images"], "type": "IMAGE"},
    ],
}


def load(page, workflow):
    clear_canvas(page)
    page.evaluate("(w) => window.nodeflow.app.setGraph(w, 'test')", workflow)


def title_point(page, node_id):
    r = page.evaluate("(n) => window.nodeflow.nodeRect(n)", node_id)
    return r["x"] + 40, r["y"] + 12


def node_menu(page, node_id, *labels):
    page.mouse.click(*title_point(page, node_id), button="right")
    for label in labels[:-1]:
        page.hover(f".context-menu li >> text='{label}'")
    page.click(f".context-menu li >> text='{labels[-1]}'")


def select(page, *ids):
    page.mouse.click(*title_point(page, ids[0]))
    page.keyboard.down("Control")
    for node_id in ids[1:]:
        page.mouse.click(*title_point(page, node_id))
    page.keyboard.up("Control")
    assert page.evaluate("() => [...window.nodeflow.app.state.selection].sort()") == sorted(ids)


def history(server):
    with urllib.request.urlopen(server["url"] + "/history") as r:
        return json.loads(r.read())


def wait_new_run(page, server, before):
    page.wait_for_function("() => window.nodeflow.app.state.runtime.executing === null", timeout=60000)
    for _ in range(600):
        runs = {k: v for k, v in history(server).items() if k not in before}
        if runs and all(v["status"]["completed"] or v["status"]["status_str"] == "error" for v in runs.values()):
            return next(iter(runs.values()))
        page.wait_for_timeout(100)
    raise AssertionError("the queued prompt never finished")


def instance_of(page):
    g = graph(page)
    ids = {d["id"] for d in g["subgraphs"]}
    return next(n["id"] for n in g["nodes"] if n["type"] in ids)


def test_create_enter_edit_promote_reuse_run_unpack(page, server):
    load(page, WORKFLOW)
    select(page, "2", "3", "6")
    page.keyboard.press("Control+Shift+E")
    inst = instance_of(page)
    g = graph(page)
    assert set(nodes(page)) == {"1", "4", "5", inst}
    definition = g["subgraphs"][0]
    assert [s["name"] for s in definition["inputs"]] == ["image"] and len(definition["outputs"]) == 1
    jsonschema.validate(g, SCHEMA)  # what the editor saves is the documented format
    ends = sorted((k["from"][0], k["to"][0]) for k in g["links"])
    assert ends == sorted([("1", inst), (inst, "4"), ("1", "5")])
    page.keyboard.press("Control+z")
    assert set(nodes(page)) == {"1", "2", "3", "4", "5", "6"} and graph(page)["subgraphs"] == []
    page.keyboard.press("Control+y")
    assert instance_of(page) == inst

    node_menu(page, inst, "Rename subgraph")
    page.wait_for_selector(".dialog-input").fill("Invert and scale")
    page.keyboard.press("Enter")
    assert graph(page)["subgraphs"][0]["name"] == "Invert and scale"

    # run: inner nodes run under "inst:inner" ids; the inner preview shows on the instance
    before = set(history(server))
    page.click("#queue-button")
    run = wait_new_run(page, server, before)
    assert {f"{inst}:2", f"{inst}:3", f"{inst}:6"} <= set(run["prompt"][2]) and run["status"]["status_str"] == "success"
    assert set(run["outputs"]) == {f"{inst}:6", "4", "5"}
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=inst, timeout=20000)

    # enter: the inside with its inputs/outputs, a breadcrumb back out
    node_menu(page, inst, "Open subgraph")
    assert page.is_visible("#subgraph-breadcrumb")
    assert set(nodes(page)) == {"@in", "@out", "2", "3", "6"}
    # edit inside, with undo
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('3', 'scale_by')")
    page.mouse.click(x, y)
    page.wait_for_selector(".widget-editor").fill("3")
    page.keyboard.press("Enter")
    assert nodes(page)["3"]["widgets"]["scale_by"] == 3
    page.keyboard.press("Control+z")
    assert nodes(page)["3"]["widgets"]["scale_by"] == 2
    page.keyboard.press("Control+y")
    assert nodes(page)["3"]["widgets"]["scale_by"] == 3
    # queued from inside, the run already uses the edit
    before = set(history(server))
    page.keyboard.press("Control+Enter")
    run = wait_new_run(page, server, before)
    assert run["prompt"][2][f"{inst}:3"]["inputs"]["scale_by"] == 3
    # promote an inner widget onto the instance, then leave by the breadcrumb
    node_menu(page, "3", "Promote widget", "upscale_method")
    page.click("#subgraph-breadcrumb a >> text='Workflow'")
    assert page.is_hidden("#subgraph-breadcrumb")
    g = graph(page)
    inner = {n["id"]: n for n in g["subgraphs"][0]["nodes"]}
    assert inner["3"]["widgets"]["scale_by"] == 3
    assert nodes(page)[inst]["promoted"] == [{"node": "3", "widget": "upscale_method", "value": "nearest-exact"}]
    page.keyboard.press("Control+z")  # the whole edit inside is one step out here
    assert {n["id"]: n for n in graph(page)["subgraphs"][0]["nodes"]}["3"]["widgets"]["scale_by"] == 2
    page.keyboard.press("Control+y")
    # the promoted widget is drawn on the instance; unpromote it from the instance's menu, with undo
    assert page.evaluate("(n) => window.nodeflow.widgetPosition(n, '3/upscale_method')", inst) is not None
    node_menu(page, inst, "Unpromote widget", "3/upscale_method")
    assert "promoted" not in nodes(page)[inst]
    page.keyboard.press("Control+z")
    assert nodes(page)[inst]["promoted"][0]["widget"] == "upscale_method"

    # reuse: save to the library, then add it from node search in a new tab
    node_menu(page, inst, "Save subgraph to library")
    page.wait_for_selector(".dialog-input").fill("Zebra block")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => Object.values(window.nodeflow.app.state.objectInfo).some((i) => i.display_name === 'Zebra block')"
    )
    assert (server["base"] / "user" / "default" / "subgraphs" / "Zebra block.json").exists()
    page.keyboard.press("Alt+n")
    page.mouse.dblclick(500, 400)
    page.wait_for_selector(".search-box input")
    page.keyboard.type("Zebra block")
    page.keyboard.press("Enter")
    g = graph(page)
    assert len(g["nodes"]) == 1 and g["nodes"][0]["type"] == g["subgraphs"][0]["id"]
    assert g["subgraphs"][0]["name"] == "Zebra block"
    page.keyboard.press("Alt+PageUp")

    # unpack: the inner nodes come back, wired, the instance's values applied
    node_menu(page, inst, "Unpack subgraph")
    types = sorted(n["type"] for n in graph(page)["nodes"])
    assert types == ["EmptyImage", "ImageInvert", "ImageScaleBy", "PreviewImage", "PreviewImage", "SaveImage"]
    scale = next(n for n in graph(page)["nodes"] if n["type"] == "ImageScaleBy")
    assert scale["widgets"]["scale_by"] == 3
    assert len(graph(page)["links"]) == 5
    page.keyboard.press("Control+z")
    assert instance_of(page) == inst


def test_queue_selected_outputs_only(page, server):
    load(page, WORKFLOW)
    select(page, "2", "3", "6")
    page.keyboard.press("Control+Shift+E")
    inst = instance_of(page)
    before = set(history(server))
    page.mouse.click(*title_point(page, "5"))
    page.keyboard.press("Control+Shift+Enter")
    run = wait_new_run(page, server, before)
    assert set(run["outputs"]) == {"5"}
    # from the node menu, on the subgraph: only the output node inside it runs
    before = set(history(server))
    node_menu(page, inst, "Queue selected outputs")
    run = wait_new_run(page, server, before)
    assert set(run["outputs"]) == {f"{inst}:6"}


def test_add_an_input_and_an_output_from_inside(page):
    from tests.helpers.editor_page import add_node, drag, slot

    load(page, WORKFLOW)
    select(page, "2", "3", "6")
    page.keyboard.press("Control+Shift+E")
    inst = instance_of(page)
    node_menu(page, inst, "Open subgraph")
    extra = add_node(page, 600, 650, "Invert Image")
    plus_out = page.evaluate("() => window.nodeflow.graph.nodes.get('@in').outputs.length - 1")
    drag(page, slot(page, "@in", "out", plus_out), slot(page, extra, "in", "image"))
    drag(page, slot(page, extra, "out", 0), slot(page, "@out", "in", "+"))
    page.keyboard.press("Alt+ArrowUp")
    g = graph(page)
    definition = g["subgraphs"][0]
    assert [s["name"] for s in definition["inputs"]] == ["image", "image_1"]
    assert [s["type"] for s in definition["outputs"]] == ["IMAGE", "IMAGE"]
    instance = page.evaluate(
        "(n) => { const x = window.nodeflow.graph.nodes.get(n); return [x.inputs.map(i => i.name), x.outputs.length]; }",
        inst,
    )
    assert instance == [["image", "image_1"], 2]
    page.keyboard.press("Control+z")
    assert len(graph(page)["subgraphs"][0]["inputs"]) == 1

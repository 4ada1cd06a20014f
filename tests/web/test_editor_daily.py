"""The editor a ComfyUI user works in all day (issue 19, part B), in a real Chromium against a real
server, through mouse and keyboard: prompt boxes inside nodes, queue feedback, tooltips and node ids,
errors that lead to their node, node search ranking, the templates browser and missing models, and
the review's minor defects (menus, z-order, Escape, tab names, collapse, colours, panels, toolbar)."""

import json
import re

import pytest

from tests.helpers.editor_page import ARTIFACTS, add_node, clear_canvas, drag, graph, nodes, rect, slot

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)

TOY = {
    "format": "nodeflow-workflow",
    "version": 1,
    "links": [{"id": 1, "from": ["1", 0], "to": ["2", "value"], "type": "STRING"}],
    "nodes": [
        {
            "id": "1",
            "type": "PrimitiveStringMultiline",
            "pos": [200, 120],
            "size": [320, 160],
            "mode": "active",
            "widgets": {"value": ""},
            "controls": {},
        },
        {
            "id": "2",
            "type": "Show",
            "pos": [620, 120],
            "size": [240, 90],
            "mode": "active",
            "widgets": {"label": ""},
            "controls": {},
        },
    ],
}


def slow_flow(steps):
    return {
        "format": "nodeflow-workflow",
        "version": 1,
        "nodes": [
            {
                "id": "1",
                "type": "Const",
                "pos": [100, 100],
                "size": [220, 80],
                "mode": "active",
                "widgets": {"value": 3},
                "controls": {},
            },
            {
                "id": "2",
                "type": "Slow",
                "pos": [400, 100],
                "size": [220, 100],
                "mode": "active",
                "widgets": {"steps": steps},
                "controls": {},
            },
            {
                "id": "3",
                "type": "Show",
                "pos": [700, 100],
                "size": [220, 90],
                "mode": "active",
                "widgets": {"label": ""},
                "controls": {},
            },
        ],
        "links": [
            {"id": 1, "from": ["1", 0], "to": ["2", "value"], "type": "INT"},
            {"id": 2, "from": ["2", 0], "to": ["3", "value"], "type": "INT"},
        ],
    }


def load(page, workflow, name="test"):
    assert page.evaluate("([wf, name]) => window.nodeflow.app.loadWorkflow(wf, name)", [workflow, name])


def scale(page):
    return page.evaluate("() => window.nodeflow.graph.viewport.scale")


def prompt_request(page, keys):
    """Press `keys` and return the JSON body of the POST /prompt it sent to the server."""
    with page.expect_request(lambda r: r.url.endswith("/prompt") and r.method == "POST") as request:
        page.keyboard.press(keys)
    return json.loads(request.value.post_data)


def clear_server_queue(page):
    page.evaluate("async () => { const api = window.nodeflow.app.api; await api.clearQueue(); await api.interrupt(); }")


# --- 1. prompts in the node ------------------------------------------------------------------------
def test_prompt_box_is_a_text_area_in_the_node_that_wraps_grows_zooms_and_queues(page):
    clear_canvas(page)
    load(page, TOY)
    area = page.locator('#text-widgets textarea[data-node="1"][data-widget="value"]')
    area.wait_for()
    box, node = area.bounding_box(), rect(page, "1")
    assert node["x"] < box["x"] and box["x"] + box["width"] < node["x"] + node["w"]
    assert node["y"] + 28 < box["y"] and box["y"] + box["height"] <= node["y"] + node["h"]
    assert box["height"] > 80  # the node's spare height goes to the prompt box

    area.click()
    text = "a lighthouse on a cliff at dusk, dramatic clouds, " * 6
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.keyboard.type("second line")
    typed = text + "\nsecond line"
    assert nodes(page)["1"]["widgets"]["value"] == typed
    wraps = page.evaluate("""() => { const t = document.querySelector('#text-widgets textarea');
        return [t.scrollWidth <= t.clientWidth + 1, t.scrollHeight > t.clientHeight]; }""")
    assert wraps == [True, True]  # long lines wrap; the rest scrolls

    # Ctrl+Enter from inside the box queues what was typed; Ctrl+Shift+Enter queues at the front
    body = prompt_request(page, "Control+Enter")
    assert body["prompt"]["1"]["inputs"]["value"] == typed and "front" not in body
    body = prompt_request(page, "Control+Shift+Enter")
    assert body.get("front") is True
    page.wait_for_function("() => window.nodeflow.app.state.runtime.texts.size > 0", timeout=20000)

    # the whole typing session is one undo step
    page.mouse.click(1000, 600)
    page.keyboard.press("Control+z")
    assert nodes(page)["1"]["widgets"]["value"] == ""
    page.wait_for_function("() => document.querySelector('#text-widgets textarea').value === ''")
    page.keyboard.press("Control+y")
    page.wait_for_function("(t) => document.querySelector('#text-widgets textarea').value === t", arg=typed)

    # resizing the node resizes the box
    before = area.bounding_box()["height"]
    r = rect(page, "1")
    drag(page, (r["x"] + r["w"] - 4, r["y"] + r["h"] - 4), (r["x"] + r["w"] - 4, r["y"] + r["h"] + 96))
    page.wait_for_function(
        "(h) => document.querySelector('#text-widgets textarea').getBoundingClientRect().height > h + 60", arg=before
    )

    # zooming scales it with the node; far out the canvas draws the text instead
    page.mouse.move(300, 200)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(200)
    s = scale(page)
    box, r = area.bounding_box(), rect(page, "1")
    assert abs(box["width"] - (r["w"] - 20 * s)) < 3
    page.evaluate("() => { const app = window.nodeflow.app; app.state.graph.viewport.scale = 0.3; app.viewChanged(); }")
    page.wait_for_function("() => document.querySelector('#text-widgets textarea').style.display === 'none'")
    page.evaluate("() => { const app = window.nodeflow.app; app.state.graph.viewport.scale = 1; app.viewChanged(); }")

    # a node dragged over the box hides it (the canvas draws the covering node above the text)
    r, show = rect(page, "1"), rect(page, "2")
    drag(page, (show["x"] + 60, show["y"] + 12), (r["x"] + 80, r["y"] + 80))
    page.wait_for_function("() => document.querySelector('#text-widgets textarea').style.display === 'none'")
    assert graph(page)["nodes"][-1]["id"] == "2"  # the dragged node is on top
    clear_server_queue(page)


# --- 2. queue feedback ---------------------------------------------------------------------------------
def test_queue_size_tab_progress_title_and_queue_front(page):
    clear_canvas(page)
    load(page, slow_flow(400))
    page.locator("#canvas").click(position={"x": 1000, "y": 600})
    page.keyboard.press("Control+Enter")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => /Queue: 2/.test(document.getElementById('queue-size').textContent)", timeout=20000)
    assert "busy" in page.get_attribute("#queue-size", "class")
    # the tab that queued shows it is running (percentage) and so does the browser title
    page.wait_for_function(
        "() => document.querySelector('#tabs .tab.active').classList.contains('running')", timeout=20000
    )
    page.wait_for_function("() => /^\\[\\d+%\\] /.test(document.title)", timeout=20000)
    assert re.match(r"\d+%", page.inner_text("#tabs .tab.active .tab-run"))
    # Queue Front: the new prompt goes before the one already waiting
    body = prompt_request(page, "Control+Shift+Enter")
    assert body["front"] is True
    queue = page.evaluate("() => window.nodeflow.app.api.queue()")
    pending = [item[0] for item in queue["queue_pending"]]
    assert len(pending) == 2 and pending[0] < pending[1]
    clear_server_queue(page)
    page.wait_for_function("() => document.getElementById('queue-size').textContent === 'Queue: 0'", timeout=30000)
    page.wait_for_function("() => document.title === 'NodeFlow'", timeout=30000)
    assert not page.evaluate("() => document.querySelector('#tabs .tab.active').classList.contains('running')")


def test_queueing_while_the_server_is_unreachable_says_so(page):
    clear_canvas(page)
    load(page, slow_flow(1))
    page.route("**/prompt", lambda route: route.abort("connectionrefused"))
    page.locator("#canvas").click(position={"x": 1000, "y": 600})
    page.keyboard.press("Control+Enter")
    toast = page.wait_for_selector(".toast.error")
    assert "not reachable" in toast.inner_text() and "nothing was queued" in toast.inner_text()
    assert page.is_visible("#error-panel") and "not reachable" in page.inner_text("#error-panel")
    page.unroute("**/prompt")


# --- 3. information ---------------------------------------------------------------------------------------
def test_tooltips_link_types_cursors_and_node_id_badges(page):
    # the default workflow: node 5 is the Negative prompt (CLIPTextEncode), fed CLIP by node 3
    x, y = slot(page, "5", "in", "clip")
    page.mouse.move(x, y)
    tip = page.wait_for_selector("#canvas-tooltip:not([hidden])")
    assert tip.inner_text().splitlines() == ["clip (CLIP)", "The CLIP model used for encoding the text."]
    assert page.evaluate("() => document.getElementById('canvas').style.cursor") == "crosshair"
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('7', 'cfg')")  # a KSampler widget
    page.mouse.move(x, y)
    page.wait_for_function(
        "() => /^cfg\\nClassifier-free guidance/.test(document.getElementById('canvas-tooltip').innerText)"
    )
    x, y = slot(page, "7", "out", 0)
    page.mouse.move(x, y)
    page.wait_for_function(
        "() => document.getElementById('canvas-tooltip').innerText.startsWith('LATENT (LATENT)\\nThe denoised latent')"
    )
    a, b = slot(page, "6", "out", 0), slot(page, "7", "in", "latent_image")
    page.mouse.move(0, 300)
    page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)  # the handle in the middle of the link
    page.wait_for_function(
        "() => /^LATENT\\n#6 .* → #7 .* · latent_image$/.test(document.getElementById('canvas-tooltip').innerText)"
    )
    r = rect(page, "5")
    page.mouse.move(r["x"] + r["w"] - 4, r["y"] + r["h"] - 4)
    assert page.evaluate("() => document.getElementById('canvas').style.cursor") == "nwse-resize"
    # node id badges: Alt+I, saved with the settings
    page.mouse.click(700, 780)
    page.keyboard.press("Alt+i")
    assert page.evaluate("() => window.nodeflow.view.nodeIds") is True
    page.wait_for_function(
        """async () => { const s = await window.nodeflow.app.api.getUserdata('nodeflow.settings.json').catch(() => ({}));
        return s.nodeIds === true; }""",
        timeout=10000,
    )
    page.keyboard.press("Alt+i")
    assert page.evaluate("() => window.nodeflow.view.nodeIds") is False


def test_errors_panel_belongs_to_its_tab_and_leads_to_the_node(page):
    clear_canvas(page)
    broken = slow_flow(1)
    broken["nodes"][1] = {**broken["nodes"][1], "type": "Fail", "widgets": {}}  # a node that always fails when run
    load(page, broken)
    page.evaluate(
        "() => { const v = window.nodeflow.graph.viewport; v.offset = [3000, 3000]; window.nodeflow.app.viewChanged(); }"
    )
    page.locator("#canvas").click(position={"x": 700, "y": 500})
    page.keyboard.press("Control+Enter")
    entry = page.wait_for_selector("#error-panel li[data-node='2']", timeout=60000)
    assert "this node always fails" in entry.inner_text()
    assert entry.inner_text().startswith("#2 ")
    entry.click()
    assert page.evaluate("() => [...window.nodeflow.app.state.selection]") == ["2"]
    r = rect(page, "2")
    assert 0 < r["x"] < 1400 and 80 < r["y"] < 850  # brought into view
    page.keyboard.press("Alt+n")  # a new tab: its own (empty) errors
    page.wait_for_function("() => document.getElementById('error-panel').hidden")
    page.click("#tabs .tab >> nth=0")
    page.wait_for_function("() => !document.getElementById('error-panel').hidden")
    page.click("#error-panel .panel-close")
    assert page.is_hidden("#error-panel")


# --- 4. node search ------------------------------------------------------------------------------------
def test_search_puts_the_exact_name_first_and_link_drop_the_usual_next_node(page):
    clear_canvas(page)
    loader = add_node(page, 300, 300, "Load Checkpoint")
    assert nodes(page)[loader]["type"] == "CheckpointLoaderSimple"
    lora = add_node(page, 300, 600, "Load LoRA")
    assert nodes(page)[lora]["type"] == "LoraLoader"
    latent = add_node(page, 700, 300, "Empty Latent Image")
    start = slot(page, latent, "out", 0)
    drag(page, start, (start[0] + 250, start[1] + 40))
    first = page.wait_for_selector(".search-box li.active")
    assert page.evaluate("() => window.nodeflow.app.state.pendingLink.type") == "LATENT"  # still drawn while choosing
    assert first.inner_text().startswith("KSampler")
    items = page.locator(".search-box li").all_inner_texts()
    assert all("_for_testing" not in t for t in items[:5])
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.nodeflow.app.state.pendingLink") is None
    sampler = graph(page)["nodes"][-1]
    assert sampler["type"] == "KSampler"
    assert any(link["to"] == [sampler["id"], "latent_image"] for link in graph(page)["links"])
    # Escape during a link drag cancels it: no search box, no link
    links = len(graph(page)["links"])
    start = slot(page, loader, "out", 0)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 150, start[1] + 200, steps=5)
    page.keyboard.press("Escape")
    page.mouse.up()
    page.wait_for_timeout(200)
    assert page.locator(".search-box").count() == 0 and len(graph(page)["links"]) == links


# --- 5. workflow library -------------------------------------------------------------------------------
def test_templates_browser_opens_nodeflow_and_pack_examples_in_new_tabs(page):
    tabs = page.locator("#tabs .tab").count()
    page.click("#templates-button")
    page.wait_for_selector(".template-card[data-template='NodeFlow/outpaint_demo']")
    assert page.locator(".template-card[data-template='example_pack/vignette_demo']").count() == 1
    page.click(".template-card[data-template='example_pack/vignette_demo']")
    page.wait_for_function("(n) => document.querySelectorAll('#tabs .tab').length === n + 1", arg=tabs)
    assert page.inner_text("#tabs .tab.active .tab-name") == "vignette demo"
    assert sorted(n["type"] for n in graph(page)["nodes"]) == ["EmptyImage", "ExampleVignette", "PreviewImage"]
    assert page.locator("#tabs .tab.active.dirty").count() == 0


def test_a_workflow_naming_missing_models_lists_them_with_their_folders(page):
    workflow = {
        "format": "nodeflow-workflow",
        "version": 1,
        "links": [],
        "nodes": [
            {
                "id": "4",
                "type": "CheckpointLoaderSimple",
                "pos": [100, 100],
                "size": [300, 100],
                "mode": "active",
                "widgets": {"ckpt_name": "sd_xl_base_1.0.safetensors"},
                "controls": {},
            },
            {
                "id": "7",
                "type": "LoraLoader",
                "pos": [100, 300],
                "size": [300, 150],
                "mode": "active",
                "widgets": {"lora_name": "detail.safetensors", "strength_model": 1, "strength_clip": 1},
                "controls": {},
            },
        ],
    }
    page.keyboard.press("Alt+n")  # an empty, unchanged tab: the file opens in it, named after the file
    page.evaluate(
        """(text) => { const dt = new DataTransfer();
        dt.items.add(new File([text], 'my_sdxl_flow.json', {type: 'application/json'}));
        document.getElementById('canvas').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, clientX: 400, clientY: 300, bubbles: true})); }""",
        json.dumps(workflow),
    )
    panel = page.wait_for_selector("#missing-models")
    rows = page.locator("#missing-models tr[data-node]").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [
        ["sd_xl_base_1.0.safetensors", "models/checkpoints/"],
        ["detail.safetensors", "models/loras/"],
    ]
    assert page.inner_text("#tabs .tab.active .tab-name") == "my_sdxl_flow"
    assert page.locator("#tabs .tab.active.dirty").count() == 0  # just opened: nothing unsaved
    page.click("#missing-models tr[data-node='7']")
    assert page.evaluate("() => [...window.nodeflow.app.state.selection]") == ["7"]
    panel.query_selector(".panel-close").click()
    assert page.locator("#missing-models").count() == 0


# --- 6. the review's minor defects -----------------------------------------------------------------------
def test_menus_one_submenu_per_level_and_inside_the_window(page):
    page.mouse.click(700, 830, button="right")
    page.wait_for_selector(".context-menu")
    for label in ("_for_testing", "advanced", "conditioning", "examples"):
        page.hover(f".context-menu:not(.child) > li.submenu:text-is('{label}')")
    assert page.locator(".context-menu").count() == 2
    for box in page.evaluate(
        "() => [...document.querySelectorAll('.context-menu')].map((m) => m.getBoundingClientRect().toJSON())"
    ):
        assert box["top"] >= 0 and box["bottom"] <= 850 and box["right"] <= 1400
    page.keyboard.press("Escape")
    page.mouse.dblclick(1300, 820)  # the search box opens near the bottom-right corner and stays inside
    box = page.locator(".search-box").bounding_box()
    assert box["y"] + box["height"] <= 850 and box["x"] + box["width"] <= 1400
    page.keyboard.press("Escape")


def test_collapse_toggle_node_colours_and_a_single_right_panel(page):
    r = rect(page, "6")  # Empty Latent Image in the default workflow
    page.mouse.click(r["x"] + 12, r["y"] + 14)
    assert nodes(page)["6"]["collapsed"] is True
    page.mouse.click(r["x"] + 12, r["y"] + 14)
    assert nodes(page)["6"]["collapsed"] is False
    page.mouse.click(r["x"] + 120, r["y"] + 14)
    page.keyboard.press("Alt+c")
    assert nodes(page)["6"]["collapsed"] is True
    page.keyboard.press("Control+z")
    assert nodes(page)["6"]["collapsed"] is False
    page.mouse.click(r["x"] + 120, r["y"] + 14, button="right")
    page.hover(".context-menu li.submenu:text-is('Colour')")
    page.click(".context-menu.child li:text-is('red')")
    assert nodes(page)["6"]["color"] == "#a1453f"
    # the queue, history and settings panels never open on top of each other
    page.click("#history-toggle")
    page.click("#queue-toggle")
    assert page.is_visible("#queue-panel") and page.is_hidden("#history-panel")
    page.click("#settings-toggle")
    assert page.is_visible("#settings-panel") and page.is_hidden("#queue-panel")
    page.click("#settings-toggle")
    # the queue panel's states need no emoji font
    page.click("#queue-toggle")
    assert "⏳" not in page.inner_text("#queue-panel")


def test_widget_editor_follows_the_view_and_ctrl_enter_queues_from_it(page):
    clear_canvas(page)
    load(page, slow_flow(1))
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('3', 'label')")
    page.mouse.click(x, y)
    field = page.wait_for_selector("input.widget-editor")
    before = field.bounding_box()
    page.mouse.move(600, 400)
    page.mouse.wheel(0, 200)  # zoom out around (600, 400): the editor stays on its row
    page.wait_for_timeout(200)
    _x2, y2 = page.evaluate("() => window.nodeflow.widgetPosition('3', 'label')")
    after = field.bounding_box()
    assert after["y"] != before["y"] and after["y"] <= y2 <= after["y"] + after["height"] + 4
    field.fill("daily")
    body = prompt_request(page, "Control+Enter")
    assert body["prompt"]["3"]["inputs"]["label"] == "daily"
    clear_server_queue(page)


def test_history_entries_show_time_duration_and_status(page):
    clear_canvas(page)
    load(page, slow_flow(2))
    page.locator("#canvas").click(position={"x": 1000, "y": 600})
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => window.nodeflow.app.state.runtime.texts.size > 0", timeout=60000)
    page.keyboard.press("h")
    item = page.wait_for_selector("#history-panel li.history-item.status-success")
    assert re.search(r"#\d+ · success · \d\d:\d\d:\d\d · \d+(\.\d)? (ms|s) · 0 images", item.inner_text())
    page.click("#history-clear")
    page.click(".dialog button.primary")
    page.wait_for_selector("#history-panel li.empty")
    assert page.evaluate("() => window.nodeflow.app.api.history()") == {}


def test_narrow_window_toolbar_and_light_theme_links(browser, server):
    context = browser.new_context(viewport={"width": 1024, "height": 700}, bypass_csp=True)
    page = context.new_page()
    page.goto(server["url"] + "/")
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    toolbar = page.evaluate(
        "() => { const t = document.getElementById('toolbar'); return [t.scrollWidth, t.clientWidth]; }"
    )
    assert toolbar[0] <= toolbar[1]
    status = page.locator("#status").bounding_box()
    assert status["x"] + status["width"] <= 1024
    assert page.evaluate(
        "() => [...document.querySelectorAll('#toolbar button')].every((b) => b.getBoundingClientRect().height < 40)"
    )
    dark = page.evaluate("() => window.nodeflow.view.linkColor('CLIP')")
    page.evaluate("() => window.nodeflow.app.setSetting('theme', 'light')")
    light = page.evaluate("() => window.nodeflow.view.linkColor('CLIP')")
    assert dark == "#ffd500" and light != dark
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "narrow-light.png"))
    page.evaluate("() => window.nodeflow.app.setSetting('theme', 'dark')")
    context.close()


def test_combo_by_keyboard_fit_includes_groups_and_an_edit_survives_an_instant_reload(page):
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('7', 'sampler_name')")  # KSampler, default workflow
    page.mouse.click(x, y)
    page.wait_for_selector(".combo-editor input")
    options = page.locator(".combo-editor li").all_inner_texts()
    current = options.index(nodes(page)["7"]["widgets"]["sampler_name"])
    page.keyboard.press("ArrowDown")  # the arrows walk on from the current value
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert nodes(page)["7"]["widgets"]["sampler_name"] == options[current + 2]
    # near the bottom of the window the picker moves up to stay inside it
    page.evaluate("""() => { const v = window.nodeflow.graph.viewport; const [, y] = window.nodeflow.widgetPosition('7', 'scheduler');
        v.offset = [v.offset[0], v.offset[1] + (800 - y) / v.scale]; window.nodeflow.app.viewChanged(); }""")
    page.wait_for_timeout(100)
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('7', 'scheduler')")
    assert 780 < y < 820
    page.mouse.click(x, y)
    box = page.wait_for_selector(".combo-editor").bounding_box()
    assert box["y"] + box["height"] <= 850
    page.keyboard.press("Escape")
    # "." fits groups as well as nodes
    page.evaluate("""() => { const g = window.nodeflow.graph;
        g.groups.push({id: 'far', title: 'Far away group', bounding: [-2500, -300, 400, 200], color: '#3f789e'}); }""")
    page.focus("#canvas")
    page.keyboard.press(".")
    left = page.evaluate("() => window.nodeflow.view.toScreen(-2500, -300)")
    assert left[0] >= 0 and left[1] >= 0
    # an edit made just before a reload is kept
    x, y = page.evaluate("() => window.nodeflow.widgetPosition('7', 'steps')")
    steps = nodes(page)["7"]["widgets"]["steps"]
    page.mouse.move(0, 0)
    page.evaluate("() => window.nodeflow.app.widgets.set('7', 'steps', 33)")
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    assert nodes(page)["7"]["widgets"]["steps"] == 33 != steps


def test_a_first_load_logs_no_errors(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 850}, bypass_csp=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(server["url"] + "/")
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    page.wait_for_timeout(500)
    context.close()
    assert problems == []

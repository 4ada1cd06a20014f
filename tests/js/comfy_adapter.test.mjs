// The ComfyUI extension adapter (web/js/comfy/) on NodeFlow's model, without a browser: hook order,
// widgets extensions add (rows, prompt, saved workflow), guarded failures, change callbacks, events.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ComfyApi, eventDetail } from "../../web/js/comfy/api.js";
import { menuEntries } from "../../web/js/comfy/app.js";
import { INPUT, OUTPUT } from "../../web/js/comfy/node.js";
import { CommandStack, connect, disconnect, removeNodes } from "../../web/js/model/commands.js";
import { Graph } from "../../web/js/model/graph.js";
import { buildPrompt } from "../../web/js/model/prompt.js";
import { widgetRows } from "../../web/js/render/layout.js";
import { ExtensionHost } from "../../web/js/ui/extensions.js";
import { INFO } from "./fixtures.mjs";

const OBJECT_INFO = {
  ...INFO,
  Echo: { input: { required: { text: ["STRING", { default: "hi" }], image: ["IMAGE"], look: ["LOOK", { default: "plain" }] } },
    input_order: { required: ["text", "image", "look"] }, output: ["STRING"], output_name: ["STRING"], category: "test" },
};

/** A stand-in for NodeFlow's App: what the adapter reads and calls. */
function editor() {
  const api = new EventTarget();
  api.clientId = "client1";
  api.getUserdata = async () => { const e = new Error("missing"); e.status = 404; throw e; };
  api.getUserdataIfPresent = async () => null;
  api.extensions = async () => [];
  const app = { api, extensions: [], customWidgets: new Map(), toasts: [], changes: 0,
    state: { graph: new Graph(), objectInfo: OBJECT_INFO, selection: new Set() },
    toast(message, kind) { this.toasts.push([kind, message]); },
    changed() { this.changes += 1; host.changed(this.state.graph); },
    run(command) { this.stack.run(command); } };
  const host = new ExtensionHost(app);
  app.extensionHost = host;
  app.state.graph.hooks = host.graphHooks;
  app.state.graph.customWidgets = app.customWidgets;
  app.stack = new CommandStack(app.state.graph, () => app.changed());
  return { app, host, comfy: host.comfy };
}

const quiet = (fn) => async (...args) => { const error = console.error; console.error = () => {}; try { return await fn(...args); } finally { console.error = error; } };

test("hooks run in ComfyUI's order, each extension in registration order", quiet(async () => {
  const { app, host, comfy } = editor();
  const calls = [];
  const ext = (name) => ({
    name,
    init() { calls.push(`${name}.init`); },
    addCustomNodeDefs(defs) { calls.push(`${name}.defs:${"Echo" in defs && defs.Echo.name}`); },
    getCustomWidgets() { calls.push(`${name}.widgets`); return {}; },
    async beforeRegisterNodeDef(type, data) { if (data.name === "Echo") calls.push(`${name}.before:${type.comfyClass}`); },
    registerCustomNodes() { calls.push(`${name}.register`); },
    beforeConfigureGraph() { calls.push(`${name}.beforeConfigure`); },
    nodeCreated(node) { calls.push(`${name}.created:${node.type}`); },
    loadedGraphNode(node) { calls.push(`${name}.loaded:${node.id}`); },
    afterConfigureGraph(missing) { calls.push(`${name}.afterConfigure:${missing.join()}`); },
    setup() { calls.push(`${name}.setup`); },
  });
  comfy.registerExtension(ext("a"));
  comfy.registerExtension(ext("b"));
  await comfy.registerNodeDefs(OBJECT_INFO);
  const data = { format: "nodeflow-workflow", version: 1, nodes: [{ id: "7", type: "Echo", pos: [0, 0] }, { id: "8", type: "Gone" }], links: [] };
  host.beforeLoad(data);
  const { graph } = Graph.fromJSON(data, OBJECT_INFO, app.customWidgets, host.graphHooks);
  host.graphLoaded(graph);
  await host.setup();
  assert.deepEqual(calls, ["a.init", "b.init", "a.defs:Echo", "b.defs:Echo", "a.widgets", "b.widgets", "a.before:Echo", "b.before:Echo",
    "a.register", "b.register", "a.beforeConfigure", "b.beforeConfigure", "a.created:Echo", "b.created:Echo",
    "a.loaded:7", "b.loaded:7", "a.afterConfigure:Gone", "b.afterConfigure:Gone", "a.setup", "b.setup"]);
  assert.equal(host.problems.length, 0);
}));

test("a hook that throws or rejects is reported once per message; the rest still run", quiet(async () => {
  const { host, comfy, app } = editor();
  const ran = [];
  comfy.registerExtension({ name: "bad", init() { throw new Error("init broke"); }, async setup() { throw new Error("setup broke"); },
    nodeCreated() { throw new Error("created broke"); } });
  comfy.registerExtension({ name: "good", init() { ran.push("init"); }, setup() { ran.push("setup"); }, nodeCreated() { ran.push("created"); } });
  comfy.registerExtension({ name: "good" }); // a second extension of the same name is refused
  await comfy.registerNodeDefs(OBJECT_INFO);
  app.state.graph.makeNode("Echo", OBJECT_INFO.Echo);
  app.state.graph.makeNode("Echo", OBJECT_INFO.Echo);
  await host.setup();
  assert.deepEqual(ran, ["init", "created", "created", "setup"]);
  const summary = host.problems.map((p) => [p.extension, p.hook, p.message, p.count]);
  assert.deepEqual(summary, [["good", null, "an extension named good is already registered; this one is skipped", 1],
    ["bad", "init", "init broke", 1], ["bad", "nodeCreated", "created broke", 2], ["bad", "setup", "setup broke", 1]]);
}));

function echoPack(comfy) {
  comfy.registerExtension({
    name: "echo",
    beforeRegisterNodeDef(nodeType, data) {
      if (data.name !== "Echo") return;
      const original = nodeType.prototype.onNodeCreated;
      nodeType.prototype.onNodeCreated = function () {
        original?.apply(this, arguments);
        this.addWidget("button", "Go", null, () => { this.widgets[0].value = "pressed"; });
        this.addWidget("number", "times", 3, () => {}, { min: 1, max: 9, step: 10, precision: 0 });
        this.addWidget("combo", "mode", "b", () => {}, { values: ["a", "b"] });
        const scratch = this.addWidget("text", "scratch", "x");
        scratch.options.serialize = false; // out of the prompt
        scratch.serialize = false;         // out of the saved workflow
      };
    },
    getCustomWidgets() {
      return { LOOK(node, name, spec) { return { widget: node.addWidget("combo", name, spec[1].default, null, { values: ["plain", "fancy"] }) }; } };
    },
  });
}

test("widgets: the node's own, extension-added ones and custom input types; rows, prompt and saved workflow", quiet(async () => {
  const { app, comfy } = editor();
  echoPack(comfy);
  await comfy.registerNodeDefs(OBJECT_INFO);
  const model = app.state.graph.addNode(app.state.graph.makeNode("Echo", OBJECT_INFO.Echo, [0, 0], "1"));
  const node = comfy.graph.getNodeById(1);
  assert.equal(node.id, 1);
  assert.deepEqual(node.widgets.map((w) => [w.name, w.type, w.value]),
    [["text", "text", "hi"], ["look", "combo", "plain"], ["Go", "button", null], ["times", "number", 3], ["mode", "combo", "b"], ["scratch", "text", "x"]]);
  assert.deepEqual(model.inputs.map((i) => i.name), ["image"]); // LOOK is a widget now, not a socket
  const rows = widgetRows(model, OBJECT_INFO.Echo, app.customWidgets);
  assert.deepEqual(rows.map((r) => [r.name, r.kind]), [["text", "STRING"], ["look", "COMBO"], ["Go", "BUTTON"], ["times", "INT"], ["mode", "COMBO"], ["scratch", "STRING"]]);
  assert.deepEqual(rows[4].spec, [["a", "b"], {}]);
  rows[2].press();
  assert.equal(model.widgets.text, "pressed");
  assert.deepEqual(buildPrompt(app.state.graph)["1"].inputs, { text: "pressed", look: "plain", times: 3, mode: "b" });
  assert.deepEqual(app.state.graph.toJSON().nodes[0].widgets, { text: "pressed", look: "plain", times: 3, mode: "b" });

  node.widgets.find((w) => w.name === "times").hidden = true;   // hidden widgets leave the canvas
  node.widgets.find((w) => w.name === "mode").options.values = ["a", "b", "c"]; // combos read their values when drawn
  const after = widgetRows(model, OBJECT_INFO.Echo, app.customWidgets);
  assert.deepEqual(after.map((r) => r.name), ["text", "look", "Go", "mode", "scratch"]);
  assert.deepEqual(after[3].spec[0], ["a", "b", "c"]);

  // saved values come back: the widgets exist before the saved values are restored
  const { graph } = Graph.fromJSON({ format: "nodeflow-workflow", version: 1, nodes: [{ id: "1", type: "Echo", widgets: { times: 7, mode: "a", scratch: "lost?" } }], links: [] },
    OBJECT_INFO, app.customWidgets, app.extensionHost.graphHooks);
  const loaded = graph.nodes.get("1");
  assert.deepEqual([loaded.widgets.times, loaded.widgets.mode, loaded.widgets.scratch], [7, "a", "lost?"]);
}));

test("node properties read and write the NodeFlow node; modes map to LiteGraph's numbers", quiet(async () => {
  const { app, comfy } = editor();
  echoPack(comfy);
  await comfy.registerNodeDefs(OBJECT_INFO);
  const model = app.state.graph.addNode(app.state.graph.makeNode("Echo", OBJECT_INFO.Echo, [10, 20], "4"));
  const node = comfy.graph.getNodeById("4");
  node.title = "Renamed";
  node.pos = [30, 40];
  node.mode = 4;
  assert.deepEqual([model.title, model.pos, model.mode, node.mode], ["Renamed", [30, 40], "bypassed", 4]);
  model.mode = "muted";
  assert.equal(node.mode, 2);
  assert.throws(() => node.addInput("extra", "INT"), /not supported by NodeFlow/);
  assert.deepEqual(comfy.graph.findNodesByType("Echo").map((n) => n.id), [4]);
}));

test("prototype defaults (colour) reach new nodes; a refreshed combo list is drawn and offered", quiet(async () => {
  const { app, comfy } = editor();
  const info = { ...OBJECT_INFO, Pick: { input: { required: { choice: [["x", "y"]] } }, input_order: { required: ["choice"] }, output: [], category: "test" } };
  app.state.objectInfo = info;
  comfy.registerExtension({ name: "paint", beforeRegisterNodeDef(type, data) {
    if (data.name === "Pick") { type.prototype.color = "#335"; type.prototype.bgcolor = "#113"; }
  } });
  await comfy.registerNodeDefs(info);
  const model = app.state.graph.addNode(app.state.graph.makeNode("Pick", info.Pick, [0, 0], "1"));
  const node = comfy.graph.getNodeById(1);
  assert.deepEqual([model.color, node.color, node.bgcolor], ["#335", "#335", "#335"]);
  node.widgets[0].options.values = ["x", "y", "z"];
  assert.deepEqual(widgetRows(model, info.Pick, app.customWidgets)[0].spec[0], ["x", "y", "z"]);
}));

test("connections, undo and removal call onConnectionsChange / onRemoved on the nodes", quiet(async () => {
  const { app, comfy } = editor();
  const log = [];
  comfy.registerExtension({ name: "watch", beforeRegisterNodeDef(type) {
    type.prototype.onConnectionsChange = function (side, slot, connected, link) { log.push([this.type, side, slot, connected, link.origin_id, link.target_id]); };
    type.prototype.onRemoved = function () { log.push([this.type, "removed"]); };
  } });
  await comfy.registerNodeDefs(OBJECT_INFO);
  const g = app.state.graph;
  const a = g.makeNode("EmptyImage", OBJECT_INFO.EmptyImage, [0, 0], "1");
  const b = g.makeNode("ImageInvert", OBJECT_INFO.ImageInvert, [300, 0], "2");
  g.addNode(a); g.addNode(b);
  app.run(connect("1", 0, "2", "image"));
  assert.deepEqual(log.splice(0), [["ImageInvert", INPUT, 0, true, 1, 2], ["EmptyImage", OUTPUT, 0, true, 1, 2]]);
  app.stack.undo();
  assert.deepEqual(log.splice(0), [["ImageInvert", INPUT, 0, false, 1, 2], ["EmptyImage", OUTPUT, 0, false, 1, 2]]);
  app.stack.redo();
  log.length = 0;
  const link = [...g.links.values()][0];
  app.run(disconnect(link.id));
  assert.equal(log.splice(0).length, 2);
  app.run(removeNodes(["2"]));
  assert.deepEqual(log.splice(0), [["ImageInvert", "removed"]]);
}));

test("executed reaches onExecuted; menu options and widget callbacks are guarded", quiet(async () => {
  const { app, host, comfy } = editor();
  const got = [];
  comfy.registerExtension({ name: "out", beforeRegisterNodeDef(type) {
    type.prototype.onExecuted = function (message) { got.push(message); throw new Error("onExecuted broke"); };
    type.prototype.getExtraMenuOptions = function (canvas, options) {
      options.push(null, { content: "<b>Do</b>", callback: () => got.push("done") }, { content: "More", submenu: { options: [{ content: "Deep", callback: () => got.push("deep") }] } });
    };
  } });
  await comfy.registerNodeDefs(OBJECT_INFO);
  const model = app.state.graph.addNode(app.state.graph.makeNode("ImageInvert", OBJECT_INFO.ImageInvert, [0, 0], "3"));
  host.executed(model, { images: [] });
  const items = host.menuItems(model);
  assert.deepEqual(items.map((i) => i.label), ["Do", "More"]);
  items[0].run();
  items[1].children[0].run();
  assert.deepEqual(got, [{ images: [] }, "done", "deep"]);
  assert.deepEqual(comfy.nodeOutputs, { 3: { images: [] } });
  assert.equal(host.problems[0].message, "onExecuted broke");
  assert.deepEqual(menuEntries([{ content: "Off", disabled: true }], {}, host), []);
}));

test("graphToPrompt awaits widgets' serializeValue; extensions may wrap it", quiet(async () => {
  const { app, comfy } = editor();
  echoPack(comfy);
  await comfy.registerNodeDefs(OBJECT_INFO);
  app.state.graph.addNode(app.state.graph.makeNode("Echo", OBJECT_INFO.Echo, [0, 0], "1"));
  comfy.graph.getNodeById(1).widgets[0].serializeValue = async (node, index) => `${node.type}:${index}`;
  const original = comfy.graphToPrompt;
  comfy.graphToPrompt = async function (...args) { const p = await original.apply(this, args); p.output["1"].inputs.extra = true; return p; };
  const { output, workflow } = await comfy.graphToPrompt();
  assert.equal(output["1"].inputs.text, "Echo:0");
  assert.equal(output["1"].inputs.extra, true);
  assert.equal(workflow.format, "nodeflow-workflow");
}));

test("api events carry ComfyUI's details; custom events pass through; a throwing listener is reported", quiet(async () => {
  const { app, host } = editor();
  const api = new ComfyApi(app.api, host);
  assert.equal(eventDetail("executing", { node: "4", display_node: "5" }), "5");
  assert.deepEqual(eventDetail("status", { status: { exec_info: { queue_remaining: 1 } }, sid: "x" }), { exec_info: { queue_remaining: 1 } });
  const got = [];
  const listener = (e) => got.push([e.type, e.detail]);
  api.addEventListener("executing", listener);
  api.addEventListener("my_pack.message", listener);
  api.addEventListener("my_pack.message", () => { throw new Error("listener broke"); });
  app.api.dispatchEvent(new CustomEvent("ws:executing", { detail: { node: "4", prompt_id: "p" } }));
  app.api.dispatchEvent(new CustomEvent("ws:my_pack.message", { detail: { text: "hi" } }));
  api.removeEventListener("executing", listener);
  app.api.dispatchEvent(new CustomEvent("ws:executing", { detail: { node: null } }));
  assert.deepEqual(got, [["executing", "4"], ["my_pack.message", { text: "hi" }]]);
  assert.equal(host.problems.length, 1);
  assert.match(host.problems[0].extension, /my_pack\.message/);
  assert.equal(api.apiURL("/prompt"), "/api/prompt");
  assert.equal(api.fileURL("/view"), "/view");
  assert.equal(api.clientId, "client1");
}));

test("settings: defaults, stored values and onChange", quiet(async () => {
  const { comfy } = editor();
  const changes = [];
  const setting = comfy.ui.settings.addSetting({ id: "pack.size", name: "Size", type: "number", defaultValue: 3, onChange: (v, old) => changes.push([v, old]) });
  assert.equal(comfy.ui.settings.getSettingValue("pack.size"), 3);
  comfy.settings.saveSoon = () => {};
  setting.value = 5;
  assert.equal(comfy.extensionManager.setting.get("pack.size"), 5);
  assert.equal(comfy.ui.settings.getSettingValue("unknown", "fallback"), "fallback");
  assert.deepEqual(changes, [[3, undefined], [5, 3]]);
}));

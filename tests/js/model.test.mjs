// Graph model, commands, prompt building and search, under node's own test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Graph } from "../../web/js/model/graph.js";
import { CommandStack, addNode, connect, moveNodes, removeNodes, setWidget } from "../../web/js/model/commands.js";
import { applyControls, buildPrompt } from "../../web/js/model/prompt.js";
import { fuzzyScore, searchNodes } from "../../web/js/model/search.js";
import { normaliseNumber, typesMatch } from "../../web/js/model/types.js";

const INFO = {
  EmptyImage: { input: { required: { width: ["INT", { default: 512, min: 1, max: 16384 }], height: ["INT", { default: 512 }],
    batch_size: ["INT", { default: 1 }], color: ["INT", { default: 0 }] } },
    input_order: { required: ["width", "height", "batch_size", "color"] }, output: ["IMAGE"], output_name: ["IMAGE"],
    category: "image", display_name: "EmptyImage" },
  ImageInvert: { input: { required: { image: ["IMAGE"] } }, output: ["IMAGE"], output_name: ["IMAGE"], category: "image",
    display_name: "Invert Image" },
  SaveImage: { input: { required: { images: ["IMAGE"], filename_prefix: ["STRING", { default: "ComfyUI" }] } },
    output: [], output_name: [], category: "image", display_name: "Save Image", output_node: true },
  KSampler: { input: { required: { seed: ["INT", { default: 0, min: 0, max: 100, control_after_generate: true }],
    sampler_name: [["euler", "heun"], {}], latent_image: ["LATENT"] } }, output: ["LATENT"], output_name: ["LATENT"],
    category: "sampling", display_name: "KSampler" },
};

function chain() {
  const g = new Graph();
  const stack = new CommandStack(g);
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  stack.run(addNode(a));
  const b = g.makeNode("ImageInvert", INFO.ImageInvert, [300, 0]);
  stack.run(addNode(b));
  const c = g.makeNode("SaveImage", INFO.SaveImage, [600, 0]);
  stack.run(addNode(c));
  stack.run(connect(a.id, 0, b.id, "image"));
  stack.run(connect(b.id, 0, c.id, "images"));
  return { g, stack, a, b, c };
}

test("nodes get sockets and widget defaults from object_info", () => {
  const g = new Graph();
  const n = g.makeNode("KSampler", INFO.KSampler);
  assert.deepEqual(n.widgets, { seed: 0, sampler_name: "euler" });
  assert.deepEqual(n.controls, { seed: "fixed" });
  assert.deepEqual(n.inputs, [{ name: "latent_image", type: "LATENT" }]);
  assert.deepEqual(n.outputs, [{ name: "LATENT", type: "LATENT" }]);
});

test("type checks refuse wrong types and cycles", () => {
  const { g, a, b, c } = chain();
  assert.equal(g.canConnect(c.id, 0, a.id, "x"), false);
  assert.equal(g.canConnect(b.id, 0, b.id, "image"), false);
  const k = g.makeNode("KSampler", INFO.KSampler);
  g.addNode(k);
  assert.equal(g.canConnect(a.id, 0, k.id, "latent_image"), false);
  // the refusal says why (the editor shows it when a link is dropped where it cannot go)
  assert.equal(g.connectProblem(a.id, 0, k.id, "latent_image"), "IMAGE cannot go into latent_image (it takes LATENT)");
  assert.equal(g.connectProblem(b.id, 0, b.id, "image"), "a node cannot feed itself");
  assert.equal(g.connectProblem(a.id, 0, b.id, "image"), null);
  assert.ok(typesMatch("INT", "INT,FLOAT") && typesMatch("*", "IMAGE") && !typesMatch("IMAGE", "MASK"));
});

test("connecting into a used input replaces the old link, and undo puts it back", () => {
  const { g, stack, a, b } = chain();
  const a2 = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 200]);
  stack.run(addNode(a2));
  stack.run(connect(a2.id, 0, b.id, "image"));
  assert.equal(g.linkInto(b.id, "image").from[0], a2.id);
  assert.equal(g.links.size, 2);
  stack.undo();
  assert.equal(g.linkInto(b.id, "image").from[0], a.id);
});

test("undo and redo of add, delete, move, widget edits; drags and typing coalesce", () => {
  const { g, stack, a, b } = chain();
  stack.run(moveNodes([a.id], 5, 5, "drag1"));
  stack.run(moveNodes([a.id], 5, 5, "drag1"));
  assert.deepEqual(a.pos, [10, 10]);
  stack.undo();
  assert.deepEqual(a.pos, [0, 0]);
  stack.redo();
  assert.deepEqual(a.pos, [10, 10]);
  stack.run(setWidget(a.id, "width", 5, "type1"));
  stack.run(setWidget(a.id, "width", 55, "type1"));
  stack.undo();
  assert.equal(a.widgets.width, 512);
  stack.run(removeNodes([b.id]));
  assert.equal(g.nodes.has(b.id), false);
  assert.equal(g.links.size, 0);
  stack.undo();
  assert.equal(g.nodes.has(b.id), true);
  assert.equal(g.links.size, 2);
});

test("serialisation round trip keeps nodes, widgets, links and modes", () => {
  const { g, a } = chain();
  a.widgets.width = 64;
  a.mode = "bypassed";
  const json = JSON.parse(JSON.stringify(g.toJSON()));
  assert.equal(json.format, "nodeflow-workflow");
  const { graph, warnings } = Graph.fromJSON(json, INFO);
  assert.deepEqual(warnings, []);
  assert.deepEqual(graph.toJSON(), g.toJSON());
  const broken = { ...json, nodes: [...json.nodes, { id: "99", type: "Nope", widgets: {} }] };
  assert.match(Graph.fromJSON(broken, INFO).warnings[0].message, /unknown node type Nope/);
});

test("prompt: muted nodes dropped, bypassed nodes passed through", () => {
  const { g, a, b, c } = chain();
  let prompt = buildPrompt(g);
  assert.deepEqual(prompt[c.id].inputs, { filename_prefix: "ComfyUI", images: [b.id, 0] });
  b.mode = "bypassed";
  prompt = buildPrompt(g);
  assert.equal(prompt[b.id], undefined);
  assert.deepEqual(prompt[c.id].inputs.images, [a.id, 0]);
  b.mode = "muted";
  prompt = buildPrompt(g);
  assert.equal(prompt[c.id].inputs.images, undefined);
});

test("control_after_generate is applied after queueing", () => {
  const g = new Graph();
  const k = g.addNode(g.makeNode("KSampler", INFO.KSampler));
  const spec = (type, name) => INFO[type].input.required[name];
  k.controls.seed = "increment";
  applyControls(g, spec);
  assert.equal(k.widgets.seed, 1);
  k.controls.seed = "randomize";
  applyControls(g, spec, () => 0.5);
  assert.equal(k.widgets.seed, 50);
  k.controls.seed = "fixed";
  assert.deepEqual(applyControls(g, spec), []);
});

test("fuzzy search ranks exact and prefix matches first", () => {
  const names = searchNodes(INFO, "image").map((r) => r.name);
  assert.deepEqual(names.slice(0, 1), ["ImageInvert"]);
  assert.ok(fuzzyScore("ksmp", "KSampler") > 0);
  assert.equal(fuzzyScore("xyz", "KSampler"), -1);
  assert.deepEqual(searchNodes(INFO, "sav").map((r) => r.name), ["SaveImage"]);
  assert.equal(normaliseNumber(["FLOAT", { step: 0.1, min: 0, max: 1 }], 0.349), 0.3);
  assert.equal(normaliseNumber(["INT", { min: 1, max: 8 }], 99), 8);
});

test("loading a workflow saved with another node version warns", () => {
  const g = new Graph();
  const info = { ...INFO.ImageInvert, version: "2.0" };
  const saved = { format: "nodeflow-workflow", version: 1, links: [],
    nodes: [{ id: "1", type: "ImageInvert", version: "1.0", pos: [0, 0], widgets: {} }] };
  const { warnings } = Graph.fromJSON(saved, { ImageInvert: info });
  assert.match(warnings[0].message, /saved with version 1.0; this NodeFlow has 2.0/);
  const node = g.makeNode("ImageInvert", info);
  assert.equal(node.version, "2.0");
});

test("extensions can register widget types for custom sockets", () => {
  const g = new Graph();
  g.customWidgets.set("COLOR", { format: (v) => v });
  const info = { input: { required: { tint: ["COLOR", { default: "#ff0000" }], image: ["IMAGE"] } }, output: [] };
  const node = g.makeNode("Tint", info);
  assert.deepEqual(node.widgets, { tint: "#ff0000" });
  assert.deepEqual(node.inputs, [{ name: "image", type: "IMAGE" }]);
});

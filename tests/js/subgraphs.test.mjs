// Subgraphs in the editor model: convert a selection, undo/redo, promote, unpack, open and
// commit edits, save/load (format v2), run targets and which node shows an inner node's progress.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CommandStack, addNode, connect, setWidget } from "../../web/js/model/commands.js";
import { Graph } from "../../web/js/model/graph.js";
import { IN, OUT, convertToSubgraph, definitionFrom, innerWorkflow, outputTargets, setDefinitions, setPromoted,
  shownNode, subgraphInfo, unpackSubgraph } from "../../web/js/model/subgraphs.js";
import { INFO as BASE } from "./fixtures.mjs";

const INFO = {
  ...BASE,
  Scale: { input: { required: { image: ["IMAGE"], scale_by: ["FLOAT", { default: 1.0 }] } }, input_order: { required: ["image", "scale_by"] },
    output: ["IMAGE"], output_name: ["IMAGE"], category: "image" },
  Preview: { input: { required: { images: ["IMAGE"] } }, output: [], output_name: [], output_node: true, category: "image" },
};

function chain() {
  const g = new Graph();
  const stack = new CommandStack(g);
  const add = (type, x, id) => { const n = g.makeNode(type, INFO[type], [x, 0], id); stack.run(addNode(n)); return n; };
  add("EmptyImage", 0, "1"); add("ImageInvert", 300, "2"); add("Scale", 600, "3"); add("Preview", 900, "4");
  stack.run(connect("1", 0, "2", "image"));
  stack.run(connect("2", 0, "3", "image"));
  stack.run(connect("3", 0, "4", "images"));
  g.nodes.get("3").widgets.scale_by = 2.5;
  return { g, stack };
}

const ends = (g) => [...g.links.values()].map((l) => `${l.from.join(".")}>${l.to.join(".")}`).sort();

test("converting a selection makes a definition and an instance wired in place; undo and redo", () => {
  const { g, stack } = chain();
  const before = ends(g);
  const command = stack.run(convertToSubgraph(["2", "3"], INFO, { id: "sg", name: "Invert+scale" }));
  const instance = g.nodes.get(command.result);
  assert.equal(instance.type, "sg");
  assert.deepEqual([...g.nodes.keys()].sort(), ["1", "4", instance.id].sort());
  const definition = g.subgraphs.get("sg");
  assert.deepEqual(definition.inputs.map((s) => [s.name, s.type]), [["image", "IMAGE"]]);
  assert.deepEqual(definition.outputs.map((s) => [s.name, s.type]), [["IMAGE", "IMAGE"]]);
  assert.ok(definition.links.some((l) => l.from[0] === IN && l.to[0] === "2"));
  assert.ok(definition.links.some((l) => l.from[0] === "3" && l.to[0] === OUT));
  assert.equal(definition.nodes.find((n) => n.id === "3").widgets.scale_by, 2.5);
  assert.deepEqual(ends(g), [`1.0>${instance.id}.image`, `${instance.id}.0>4.images`].sort());
  const saved = g.toJSON();
  assert.equal(saved.version, 2);
  assert.equal(saved.subgraphs[0].id, "sg");
  stack.undo();
  assert.deepEqual(ends(g), before);
  assert.equal(g.subgraphs.size, 0);
  stack.redo();
  assert.equal(g.nodes.get(command.result).type, "sg");
});

test("an input that feeds a widget inside shows as a widget on the instance; promoted widgets are per instance", () => {
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["3"], INFO, { id: "sg" })).result; // image -> Scale -> out
  const info = subgraphInfo(g.subgraphs.get("sg"), g.subgraphs, INFO);
  assert.deepEqual(info.input_order.required, ["image"]);
  stack.run(setPromoted(made, "3", "scale_by", true, INFO));
  assert.equal(g.nodes.get(made).widgets["3/scale_by"], 2.5);
  stack.run(setWidget(made, "3/scale_by", 4));
  const saved = g.toJSON();
  const node = saved.nodes.find((n) => n.id === made);
  assert.deepEqual(node.promoted, [{ node: "3", widget: "scale_by", value: 4 }]);
  assert.equal(node.widgets["3/scale_by"], undefined);
  const { graph } = Graph.fromJSON(saved, INFO);
  assert.equal(graph.nodes.get(made).widgets["3/scale_by"], 4);
  assert.deepEqual(graph.toJSON(), saved); // save -> load -> save is stable
  stack.undo(); stack.undo();
  assert.equal(g.nodes.get(made).promoted, undefined);
});

test("unpack puts the inner nodes back with the instance's links and values", () => {
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["2", "3"], INFO, { id: "sg" })).result;
  stack.run(setPromoted(made, "3", "scale_by", true, INFO));
  stack.run(setWidget(made, "3/scale_by", 7));
  const ids = stack.run(unpackSubgraph(made, INFO)).result;
  assert.equal(ids.length, 2);
  assert.ok(!g.nodes.has(made));
  const types = ids.map((id) => g.nodes.get(id).type).sort();
  assert.deepEqual(types, ["ImageInvert", "Scale"]);
  const scale = ids.map((id) => g.nodes.get(id)).find((n) => n.type === "Scale");
  assert.equal(scale.widgets.scale_by, 7);
  const invert = ids.find((id) => g.nodes.get(id).type === "ImageInvert");
  assert.deepEqual(ends(g), [`1.0>${invert}.image`, `${invert}.0>${scale.id}.image`, `${scale.id}.0>4.images`].sort());
  stack.undo();
  assert.equal(g.nodes.get(made).type, "sg");
});

test("opening a subgraph shows its inputs/outputs; edits inside are committed as one step outside", () => {
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["2", "3"], INFO, { id: "sg" })).result;
  const data = { ...innerWorkflow(g.subgraphs.get("sg")), subgraphs: [...g.subgraphs.values()], io: g.subgraphs.get("sg") };
  const { graph: inner, warnings } = Graph.fromJSON(data, INFO);
  assert.deepEqual(warnings, []);
  assert.equal(inner.nodes.get(IN).outputs[0].name, "image");
  assert.equal(inner.nodes.get(OUT).inputs[0].name, "IMAGE");
  assert.equal(inner.links.size, 3);
  const innerStack = new CommandStack(inner);
  innerStack.run(setWidget("3", "scale_by", 9));
  const edited = definitionFrom(inner, g.subgraphs.get("sg"));
  assert.equal(edited.nodes.find((n) => n.id === "3").widgets.scale_by, 9);
  assert.ok(!edited.nodes.some((n) => n.id === IN || n.id === OUT));
  stack.run(setDefinitions(new Map([...g.subgraphs, ["sg", edited]])));
  assert.equal(g.subgraphs.get("sg").nodes.find((n) => n.id === "3").widgets.scale_by, 9);
  stack.undo();
  assert.equal(g.subgraphs.get("sg").nodes.find((n) => n.id === "3").widgets.scale_by, 2.5);
  assert.equal(g.nodes.get(made).type, "sg");
});

test("run targets and progress: inner output nodes by flat id, events shown on the instance", () => {
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["3", "4"], INFO, { id: "sg" })).result;
  assert.deepEqual(outputTargets(g, g.nodes.get(made), INFO), [`${made}:4`]);
  assert.deepEqual(outputTargets(g, g.nodes.get("1"), INFO), []);
  assert.equal(shownNode(g, `${made}:3`), made);
  assert.equal(shownNode(g, "1"), "1");
  assert.equal(shownNode(g, "99:1"), null);
  const inner = new Graph();
  inner.addNode(inner.makeNode("Scale", INFO.Scale, [0, 0], "3"));
  assert.equal(shownNode(inner, `${made}:3`, `${made}:`), "3");
});

test("copy and paste a subgraph node, here or into another graph: a second instance of the same definition", async () => {
  const { copyNodes, pasteNodes } = await import("../../web/js/model/clipboard.js");
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["2", "3"], INFO, { id: "sg" })).result;
  stack.run(setPromoted(made, "3", "scale_by", true, INFO));
  stack.run(setWidget(made, "3/scale_by", 6));
  const payload = JSON.parse(JSON.stringify(copyNodes(g, [made])));
  assert.deepEqual(payload.subgraphs.map((d) => d.id), ["sg"]);
  const [copy] = pasteNodes(g, payload, INFO, (c) => stack.run(c), { offset: [0, 300] });
  assert.equal(g.nodes.get(copy).type, "sg");
  assert.equal(g.nodes.get(copy).widgets["3/scale_by"], 6);
  assert.equal(g.subgraphs.size, 1);
  const other = new Graph();
  const [there] = pasteNodes(other, payload, INFO, (c) => c.do(other), { offset: [0, 0] });
  assert.equal(other.nodes.get(there).missing, false);
  assert.deepEqual(other.nodes.get(there).outputs.map((o) => o.type), ["IMAGE"]);
});

test("reroutes and notes stay outside a new subgraph; a Primitive inside keeps feeding its widget", async () => {
  const { EDITOR_NODES } = await import("../../web/js/model/editor_nodes.js");
  const { g, stack } = chain();
  const reroute = g.makeNode("Reroute", EDITOR_NODES.Reroute, [200, 0], "7");
  stack.run(addNode(reroute));
  stack.run(connect("1", 0, "7", "input"));
  stack.run(connect("7", 0, "2", "image"));
  const prim = g.makeNode("PrimitiveNode", EDITOR_NODES.PrimitiveNode, [500, 200], "8");
  stack.run(addNode(prim));
  g.convertOnLoad(g.nodes.get("3"), INFO.Scale, "scale_by");
  stack.run(connect("8", 0, "3", "scale_by"));
  g.nodes.get("8").widgets.value = 1.5;
  const made = stack.run(convertToSubgraph(["7", "2", "3", "8"], INFO, { id: "sg" })).result;
  assert.ok(g.nodes.has("7"), "the reroute stays outside");
  assert.deepEqual(ends(g).filter((e) => e.includes(made)).sort(), [`${made}.0>4.images`, `7.0>${made}.image`].sort());
  const definition = g.subgraphs.get("sg");
  assert.deepEqual(definition.nodes.map((n) => n.type).sort(), ["ImageInvert", "PrimitiveNode", "Scale"]);
  assert.equal(definition.nodes.find((n) => n.id === "3").widgets.scale_by, 1.5);
});

test("inside, linking to the '+' slots adds a subgraph input or output; the instances outside get the socket", async () => {
  const { NEW_SLOT } = await import("../../web/js/model/subgraphs.js");
  const { g, stack } = chain();
  const made = stack.run(convertToSubgraph(["2"], INFO, { id: "sg" })).result; // 1 -> [invert] -> scale
  const data = { ...innerWorkflow(g.subgraphs.get("sg")), subgraphs: [...g.subgraphs.values()], io: g.subgraphs.get("sg") };
  const { graph: inner } = Graph.fromJSON(data, INFO);
  const inNode = inner.nodes.get(IN);
  assert.equal(inNode.outputs.at(-1).name, NEW_SLOT);
  const scale = inner.makeNode("Scale", INFO.Scale, [300, 0], "9");
  inner.addNode(scale);
  inner.connect("2", 0, "9", "image");
  inner.convertOnLoad(scale, INFO.Scale, "scale_by");
  inner.connect(IN, inNode.outputs.length - 1, "9", "scale_by"); // a new input, typed by what it feeds
  inner.connect("9", 0, OUT, NEW_SLOT); // and a new output
  const edited = definitionFrom(inner, g.subgraphs.get("sg"));
  assert.deepEqual(edited.inputs.map((s) => [s.name, s.type]), [["image", "IMAGE"], ["scale_by", "FLOAT"]]);
  assert.deepEqual(edited.outputs.map((s) => s.name), ["IMAGE", "IMAGE_1"]);
  assert.ok(edited.links.some((l) => l.from[0] === IN && l.from[1] === 1 && l.to[0] === "9"));
  const linksBefore = ends(g);
  stack.run(setDefinitions(new Map([["sg", edited]]), "edit subgraph", INFO));
  const instance = g.nodes.get(made);
  assert.equal(instance.outputs.length, 2);
  assert.ok("scale_by" in instance.widgets, "an input feeding a widget shows as a widget outside");
  assert.deepEqual(ends(g), linksBefore, "the links that still fit are kept");
  stack.undo();
  assert.equal(g.nodes.get(made).outputs.length, 1);
});

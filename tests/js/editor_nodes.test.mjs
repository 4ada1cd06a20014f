// Notes, reroutes and groups in the model: saved form, prompt building, undoable group edits.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CommandStack, addNode, connect } from "../../web/js/model/commands.js";
import { EDITOR_NODES } from "../../web/js/model/editor_nodes.js";
import { Graph } from "../../web/js/model/graph.js";
import { addGroup, boundsAround, groupContents, makeGroup, moveGroup, removeGroup, resizeGroup, setGroup } from "../../web/js/model/groups.js";
import { buildPrompt } from "../../web/js/model/prompt.js";
import { INFO } from "./fixtures.mjs";

const ALL = { ...INFO, ...EDITOR_NODES };

function rerouted() {
  const g = new Graph();
  const stack = new CommandStack(g);
  const add = (type, info, pos) => stack.run(addNode(g.makeNode(type, info, pos))) && g.nodes.get(String(g.nextNodeId - 1));
  const a = add("EmptyImage", INFO.EmptyImage, [0, 0]);
  const r = add("Reroute", null, [200, 40]);
  const b = add("ImageInvert", INFO.ImageInvert, [400, 0]);
  const c = add("ImageInvert", INFO.ImageInvert, [400, 200]);
  stack.run(connect(a.id, 0, r.id, "input"));
  stack.run(connect(r.id, 0, b.id, "image"));
  stack.run(connect(r.id, 0, c.id, "image"));
  const note = add("Note", null, [0, 300]);
  note.widgets.text = "<b>remember</b>";
  return { g, stack, a, r, b, c, note };
}

test("reroutes carry the type of their source and refuse mismatched targets", () => {
  const { g, r } = rerouted();
  assert.equal(g.outputType(r.id, 0), "IMAGE");
  const k = g.addNode(g.makeNode("KSampler", INFO.KSampler, [0, 0]));
  assert.equal(g.canConnect(r.id, 0, k.id, "latent_image"), false);
  assert.equal(g.linkInto("3", "image").type, "IMAGE");
});

test("the prompt skips notes and reroutes and links through reroutes to the real source", () => {
  const { g, a, b, c } = rerouted();
  const prompt = buildPrompt(g);
  assert.deepEqual(Object.keys(prompt).sort(), [a.id, b.id, c.id].sort());
  assert.deepEqual(prompt[b.id].inputs.image, [a.id, 0]);
  assert.deepEqual(prompt[c.id].inputs.image, [a.id, 0]);
});

test("saved form: notes as notes, reroutes as shared via points; loading rebuilds both", () => {
  const { g, a, b, c, note } = rerouted();
  const json = JSON.parse(JSON.stringify(g.toJSON()));
  assert.deepEqual(json.nodes.map((n) => n.type), ["EmptyImage", "ImageInvert", "ImageInvert"]);
  assert.deepEqual(json.notes, [{ id: note.id, text: "<b>remember</b>", pos: [0, 300], size: [320, 160], markdown: false }]);
  assert.deepEqual(json.links.map((l) => [l.from, l.to, l.via, l.type]), [
    [[a.id, 0], [b.id, "image"], [[200, 40]], "IMAGE"], [[a.id, 0], [c.id, "image"], [[200, 40]], "IMAGE"]]);
  const { graph, warnings } = Graph.fromJSON(json, ALL);
  assert.deepEqual(warnings, []);
  const reroutes = [...graph.nodes.values()].filter((n) => n.type === "Reroute");
  assert.equal(reroutes.length, 1); // both links run through the same point: one shared reroute
  assert.deepEqual(reroutes[0].pos, [200, 40]);
  assert.equal(graph.nodes.get(note.id).widgets.text, "<b>remember</b>");
  assert.deepEqual(graph.toJSON(), g.toJSON());
});

test("notes whose id clashes with a node get a fresh id; broken via links warn", () => {
  const data = { format: "nodeflow-workflow", version: 1,
    nodes: [{ id: "1", type: "EmptyImage", pos: [0, 0], widgets: {} }],
    links: [{ id: 5, from: ["1", 0], to: ["9", "image"], via: [[1, 1]] }],
    notes: [{ id: "1", text: "hi", pos: [5, 5] }] };
  const { graph, warnings } = Graph.fromJSON(data, ALL);
  const note = [...graph.nodes.values()].find((n) => n.type === "Note");
  assert.notEqual(note.id, "1");
  assert.equal(warnings.length, 1);
});

test("groups: contents, nesting order, undoable move/resize/title/colour/remove", () => {
  const g = new Graph();
  const stack = new CommandStack(g);
  const a = g.addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [100, 100]));
  const b = g.addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [600, 100]));
  const inner = makeGroup(g, boundsAround([{ x: 100, y: 100, w: 240, h: 80 }]), "inner");
  stack.run(addGroup(inner));
  const outer = makeGroup(g, [0, 0, 1000, 500], "outer");
  stack.run(addGroup(outer));
  assert.deepEqual(g.groups.map((x) => x.title), ["outer", "inner"]); // the enclosing one is drawn below
  assert.deepEqual(inner.bounding, [84, 50, 272, 146]);
  const contents = groupContents(g, outer);
  assert.deepEqual(contents, { nodeIds: [a.id, b.id], groupIds: [inner.id] });
  stack.run(moveGroup([outer.id, ...contents.groupIds], contents.nodeIds, 10, 5, "m"));
  stack.run(moveGroup([outer.id, ...contents.groupIds], contents.nodeIds, 10, 5, "m"));
  assert.deepEqual([a.pos, b.pos, inner.bounding.slice(0, 2), outer.bounding.slice(0, 2)], [[120, 110], [620, 110], [104, 60], [20, 10]]);
  assert.equal(stack.done.length, 3);
  stack.undo();
  assert.deepEqual([a.pos, outer.bounding.slice(0, 2)], [[100, 100], [0, 0]]);
  stack.run(resizeGroup(inner.id, [400, 300], "r"));
  stack.run(setGroup(inner.id, "title", "renamed"));
  stack.run(setGroup(inner.id, "color", "#a1453f"));
  stack.run(removeGroup(inner.id));
  assert.deepEqual(g.groups.map((x) => x.id), [outer.id]);
  for (let i = 0; i < 4; i++) stack.undo();
  assert.deepEqual([inner.title, inner.color, inner.bounding], ["inner", "#3f789e", [84, 50, 272, 146]]);
  assert.deepEqual(g.groups.map((x) => x.title), ["outer", "inner"]);
  const saved = Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())), INFO).graph;
  assert.deepEqual(saved.groups, g.groups);
  assert.equal(saved.nextGroupId, 3);
});

test("widgets convert to inputs and back (undoable); links into widgets convert on load", async () => {
  const { convertWidget, disconnect } = await import("../../web/js/model/commands.js");
  const g = new Graph();
  const stack = new CommandStack(g);
  const a = g.addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]));
  stack.run(convertWidget(a.id, "width", INFO.EmptyImage.input.required.width));
  assert.deepEqual(a.inputs.map((i) => [i.name, i.type, i.widget]), [["width", "INT", true]]);
  stack.undo();
  assert.deepEqual(a.inputs, []);
  stack.redo();
  const p = g.addNode(g.makeNode("PrimitiveNode", null, [0, 200]));
  stack.run(connect(p.id, 0, a.id, "width"));
  assert.equal(p.widgets.value, 512); // adopted from the widget it feeds
  assert.equal(g.outputType(p.id, 0), "INT");
  p.widgets.value = 64;
  assert.equal(buildPrompt(g)[a.id].inputs.width, 64);
  assert.equal(buildPrompt(g)[p.id], undefined);
  const json = JSON.parse(JSON.stringify(g.toJSON()));
  assert.deepEqual(json.nodes.find((n) => n.id === a.id).converted, ["width"]);
  assert.equal(json.nodes.find((n) => n.id === a.id).widgets.width, 64);
  delete json.nodes.find((n) => n.id === a.id).converted; // a link alone is enough to convert on load
  const loaded = Graph.fromJSON(json, ALL).graph;
  assert.equal(loaded.linkInto(a.id, "width").from[0], p.id);
  assert.equal(buildPrompt(loaded)[a.id].inputs.width, 64);
  // a primitive only feeds converted widgets; converting back disconnects (one batch)
  const b = g.addNode(g.makeNode("ImageInvert", INFO.ImageInvert, [300, 0]));
  assert.equal(g.canConnect(p.id, 0, b.id, "image"), false);
  stack.batch("to widget", () => {
    stack.run(disconnect(g.linkInto(a.id, "width").id));
    stack.run(convertWidget(a.id, "width", null, false));
  });
  assert.deepEqual(a.inputs, []);
  assert.equal(g.links.size, 0);
  stack.undo();
  assert.equal(g.linkInto(a.id, "width").from[0], p.id);
  stack.undo(); // the connect: the primitive forgets the adopted value
  assert.equal("value" in p.widgets, false);
});

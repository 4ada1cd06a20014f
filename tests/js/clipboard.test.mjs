// Copy/paste as data: fresh ids, placement, internal and external links, one undo step.
import assert from "node:assert/strict";
import { test } from "node:test";

import { copyNodes, parseClipboard, pasteNodes } from "../../web/js/model/clipboard.js";
import { CommandStack, addNode, connect } from "../../web/js/model/commands.js";
import { Graph } from "../../web/js/model/graph.js";
import { INFO } from "./fixtures.mjs";

function chain() {
  const g = new Graph();
  const stack = new CommandStack(g);
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  stack.run(addNode(a));
  const b = g.makeNode("ImageInvert", INFO.ImageInvert, [300, 50]);
  stack.run(addNode(b));
  const c = g.makeNode("ImageInvert", INFO.ImageInvert, [600, 100]);
  stack.run(addNode(c));
  stack.run(connect(a.id, 0, b.id, "image"));
  stack.run(connect(b.id, 0, c.id, "image"));
  a.widgets.width = 77;
  return { g, stack, a, b, c };
}

test("copy keeps internal links apart from links coming in from outside", () => {
  const { g, b, c } = chain();
  const payload = copyNodes(g, [b.id, c.id]);
  assert.deepEqual(payload.nodes.map((n) => n.id), [b.id, c.id]);
  assert.deepEqual(payload.links.map((l) => [l.from[0], l.to[0]]), [[b.id, c.id]]);
  assert.deepEqual(payload.external.map((l) => [l.from[0], l.to[0]]), [["1", b.id]]);
  assert.deepEqual(parseClipboard(JSON.stringify(payload)), payload);
  assert.equal(parseClipboard("hello"), null);
  assert.equal(parseClipboard('{"format": "nodeflow-clipboard", broken'), null);
});

test("paste gives fresh ids at the point, keeps internal links, and is one undo step", () => {
  const { g, stack, a, b, c } = chain();
  const payload = JSON.parse(JSON.stringify(copyNodes(g, [a.id, b.id])));
  const ids = stack.batch("paste", () => pasteNodes(g, payload, INFO, (cmd) => stack.run(cmd), { at: [1000, 1000] }));
  assert.deepEqual(ids, ["4", "5"]);
  assert.deepEqual(g.nodes.get("4").pos, [1000, 1000]);
  assert.deepEqual(g.nodes.get("5").pos, [1300, 1050]);
  assert.equal(g.nodes.get("4").widgets.width, 77);
  assert.equal(g.linkInto("5", "image").from[0], "4");
  assert.equal(g.links.size, 3);
  stack.undo();
  assert.equal(g.nodes.size, 3);
  assert.equal(g.links.size, 2);
  assert.ok(g.linkInto(c.id, "image"));
});

test("paste with links reconnects inputs fed from outside the copied set when the source exists", () => {
  const { g, stack, b } = chain();
  const payload = copyNodes(g, [b.id]);
  pasteNodes(g, payload, INFO, (cmd) => stack.run(cmd), { offset: [0, 200] });
  assert.equal(g.linkInto("4", "image"), null);
  pasteNodes(g, payload, INFO, (cmd) => stack.run(cmd), { offset: [0, 400], keepExternal: true });
  assert.equal(g.linkInto("5", "image").from[0], "1");
  // into another graph where the outside source does not exist: the node comes without the link
  const other = new Graph();
  pasteNodes(other, payload, INFO, (cmd) => cmd.do(other), { at: [0, 0], keepExternal: true });
  assert.equal(other.nodes.size, 1);
  assert.equal(other.links.size, 0);
});

// The command stack: batches, rollback, saved/dirty state, history limit, control modes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Graph } from "../../web/js/model/graph.js";
import { INFO } from "./fixtures.mjs";
import { CommandStack, addNode, connect, disconnect, moveNodes, resizeNode, setControl, setProperty, setWidget } from "../../web/js/model/commands.js";

function setup() {
  const g = new Graph();
  const changes = [];
  const stack = new CommandStack(g, (c) => changes.push(c));
  return { g, stack, changes };
}

test("a batch is one undo step, and redo replays it", () => {
  const { g, stack } = setup();
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  const b = g.makeNode("ImageInvert", INFO.ImageInvert, [300, 0], "2");
  stack.batch("add two", () => {
    stack.run(addNode(a));
    stack.run(addNode(b));
    stack.run(connect(a.id, 0, b.id, "image"));
  });
  assert.equal(stack.done.length, 1);
  assert.equal(g.links.size, 1);
  stack.undo();
  assert.equal(g.nodes.size, 0);
  assert.equal(g.links.size, 0);
  stack.redo();
  assert.equal(g.nodes.size, 2);
  assert.equal(g.linkInto("2", "image").from[0], a.id);
});

test("nested batches fold into the outer step; an empty batch adds nothing", () => {
  const { g, stack } = setup();
  stack.batch("outer", () => {
    stack.run(addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0], "1")));
    stack.batch("inner", () => stack.run(addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0], "2"))));
  });
  stack.batch("nothing", () => {});
  assert.equal(stack.done.length, 1);
  stack.undo();
  assert.equal(g.nodes.size, 0);
});

test("a batch that throws is rolled back and leaves no undo step", () => {
  const { g, stack } = setup();
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  assert.throws(() => stack.batch("broken", () => {
    stack.run(addNode(a));
    stack.run(connect(a.id, 0, "nope", "image"));
  }), /cannot connect/);
  assert.equal(g.nodes.size, 0);
  assert.equal(stack.done.length, 0);
});

test("dirty follows the saved point through undo and redo; merges never cross it", () => {
  const { g, stack } = setup();
  assert.equal(stack.dirty, false);
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  stack.run(addNode(a));
  assert.equal(stack.dirty, true);
  stack.run(moveNodes([a.id], 5, 0, "drag"));
  stack.markSaved();
  assert.equal(stack.dirty, false);
  stack.run(moveNodes([a.id], 5, 0, "drag")); // same drag key, but the saved step is sealed
  assert.equal(stack.done.length, 3);
  assert.equal(stack.dirty, true);
  stack.undo();
  assert.equal(stack.dirty, false);
  stack.undo();
  assert.equal(stack.dirty, true);
  stack.redo();
  assert.equal(stack.dirty, false);
});

test("the history keeps at most `limit` steps", () => {
  const g = new Graph();
  const stack = new CommandStack(g, () => {}, 3);
  const a = g.addNode(g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]));
  for (let i = 0; i < 5; i++) stack.run(moveNodes([a.id], 1, 0));
  assert.equal(stack.done.length, 3);
  while (stack.undo());
  assert.deepEqual(a.pos, [2, 0]);
});

test("undo/redo of disconnect, resize (coalesced), properties and control modes", () => {
  const { g, stack } = setup();
  const a = g.makeNode("EmptyImage", INFO.EmptyImage, [0, 0]);
  const b = g.makeNode("ImageInvert", INFO.ImageInvert, [300, 0], "2");
  const k = g.makeNode("KSampler", INFO.KSampler, [0, 300], "3");
  for (const n of [a, b, k]) stack.run(addNode(n));
  stack.run(connect(a.id, 0, b.id, "image"));
  const link = g.linkInto(b.id, "image");
  stack.run(disconnect(link.id));
  assert.equal(g.links.size, 0);
  stack.undo();
  assert.equal(g.linkInto(b.id, "image").id, link.id);
  stack.run(resizeNode(a.id, [300, 100], "r1"));
  stack.run(resizeNode(a.id, [320, 140], "r1"));
  assert.deepEqual(a.size, [320, 140]);
  stack.undo();
  assert.deepEqual(a.size, [240, 80]);
  stack.run(setProperty([a.id, b.id], "mode", "muted"));
  stack.undo();
  assert.equal(a.mode, "active");
  stack.run(setControl(k.id, "seed", "randomize"));
  assert.equal(k.controls.seed, "randomize");
  stack.undo();
  assert.equal(k.controls.seed, "fixed");
  stack.redo();
  assert.equal(k.controls.seed, "randomize");
  stack.run(setWidget(a.id, "width", 7, "t1"));
  stack.run(setWidget(a.id, "width", 70, "t1"));
  stack.run(setWidget(a.id, "width", 700, "t2"));
  stack.undo();
  assert.equal(a.widgets.width, 70);
  stack.undo();
  assert.equal(a.widgets.width, 512);
});

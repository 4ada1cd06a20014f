// Align moves of the canvas menu (ui/canvas_menu.js): pure data in, moves out.
import assert from "node:assert/strict";
import test from "node:test";
import { alignMoves } from "../../web/js/ui/canvas_menu.js";

test("align lines nodes up on an edge and leaves pinned ones alone", () => {
  const node = (id, pos, size, pinned = false) => [id, { id, pos, size, pinned }];
  const graph = { nodes: new Map([node("1", [0, 50], [100, 40]), node("2", [200, 10], [80, 90]), node("3", [400, 0], [50, 50], true)]) };
  assert.deepEqual(alignMoves(graph, ["1", "2", "3"], "top"), [["1", 0, -40]]);
  assert.deepEqual(alignMoves(graph, ["1", "2"], "bottom"), [["1", 0, 10]]);
  assert.deepEqual(alignMoves(graph, ["1", "2"], "right"), [["1", 180, 0]]);
  assert.deepEqual(alignMoves(graph, ["1"], "left"), []);
});

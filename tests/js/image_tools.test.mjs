// Pure parts of the image tools: file references, which images a node shows, the batch grid and
// pager geometry, and how far a growing preview may reach.
import assert from "node:assert/strict";
import { test } from "node:test";

import { historyEntries } from "../../web/js/ui/history_panel.js";
import { imageRef, refFromUrl, refValue, stemOf, viewPath } from "../../web/js/model/image_refs.js";
import { imageSetLayout } from "../../web/js/render/image_grid.js";
import { nodeImages, pagerIndex, setPagerIndex, uploadWidget } from "../../web/js/render/node_images.js";
import { keepClear } from "../../web/js/render/preview_room.js";

test("widget values, references and /view URLs convert both ways", () => {
  assert.deepEqual(imageRef("a/b/x.png [output]"), { filename: "x.png", subfolder: "a/b", type: "output" });
  assert.deepEqual(imageRef("x.png"), { filename: "x.png", subfolder: "", type: "input" });
  assert.equal(imageRef(""), null);
  assert.equal(refValue(imageRef("a/x.png [temp]")), "a/x.png [temp]");
  assert.equal(refValue({ filename: "m.png", subfolder: "", type: "input" }), "m.png");
  const url = viewPath({ filename: "x y.png", subfolder: "s", type: "input" });
  assert.equal(url, "/view?filename=x+y.png&subfolder=s&type=input");
  assert.deepEqual(refFromUrl(url), { filename: "x y.png", subfolder: "s", type: "input" });
  assert.equal(refFromUrl("/other?filename=x"), null);
  assert.equal(stemOf({ filename: "photo.final.png" }), "photo.final");
});

const LOAD_INFO = { input: { required: { image: [["a.png", "b.png"], { image_upload: true }] } }, input_order: { required: ["image"] } };
const state = () => ({ runtime: { images: new Map() } });

test("Load Image shows the file its widget names; run outputs come first; a converted widget shows none", () => {
  assert.equal(uploadWidget(LOAD_INFO), "image");
  assert.equal(uploadWidget({ input: { required: { text: ["STRING", {}] } } }), "");
  const s = state();
  const node = { id: "1", inputs: [], widgets: { image: "a.png" } };
  const first = nodeImages(s, node, LOAD_INFO);
  assert.deepEqual(first, ["/view?filename=a.png&subfolder=&type=input"]);
  assert.equal(nodeImages(s, node, LOAD_INFO), first); // stable while the value stays
  node.widgets.image = "b.png [output]";
  assert.deepEqual(nodeImages(s, node, LOAD_INFO), ["/view?filename=b.png&subfolder=&type=output"]);
  s.runtime.images.set("1", ["/view?filename=out.png"]);
  assert.deepEqual(nodeImages(s, node, LOAD_INFO), ["/view?filename=out.png"]);
  const converted = { id: "2", inputs: [{ name: "image", widget: true }], widgets: { image: "a.png" } };
  assert.equal(nodeImages(s, converted, LOAD_INFO), null);
});

test("the pager index belongs to one set of images and resets when new ones arrive", () => {
  const runtime = { images: new Map() };
  const urls = ["a", "b", "c"];
  assert.equal(pagerIndex(runtime, "1", urls), -1);
  setPagerIndex(runtime, "1", urls, 4);
  assert.equal(pagerIndex(runtime, "1", urls), 1);
  assert.equal(pagerIndex(runtime, "1", ["a", "b", "c"]), -1);
});

test("a batch is a grid of square-ish cells, or one image with a pager bar", () => {
  const rect = { x: 0, y: 0, w: 200, h: 200 };
  assert.deepEqual(imageSetLayout(rect, 1, -1).cells, [{ ...rect, i: 0 }]);
  const grid = imageSetLayout(rect, 4, -1);
  assert.equal(grid.bar, null);
  assert.deepEqual(grid.cells.map((c) => [c.x, c.y]), [[1, 1], [101, 1], [1, 101], [101, 101]]);
  const wide = imageSetLayout({ x: 0, y: 0, w: 400, h: 100 }, 4, -1);
  assert.equal(new Set(wide.cells.map((c) => c.y)).size, 1); // one row when the area is wide
  const one = imageSetLayout(rect, 4, 2);
  assert.equal(one.cells.length, 1);
  assert.equal(one.cells[0].i, 2);
  assert.ok(one.prev.x < one.grid.x && one.grid.x < one.next.x && one.bar.y + one.bar.h === 200);
});

test("a growing preview stops above the node below it, or becomes a title-bar thumbnail", () => {
  const graph = { nodes: new Map() };
  const add = (id, pos, size) => { const n = { id, pos, size }; graph.nodes.set(id, n); return n; };
  const node = add("1", [0, 0], [200, 60]);
  const L = { x: 0, y: 0, w: 200, h: 260, image: { x: 6, y: 74, w: 188, h: 180 } };
  assert.equal(keepClear(L, node, graph, new Map()), L); // nothing below: full size
  add("2", [0, 200], [200, 80]);
  const shrunk = keepClear(L, node, graph, new Map());
  assert.equal(shrunk.h, 188);
  assert.ok(shrunk.y + shrunk.h <= 200 && shrunk.image.h >= 36);
  add("3", [100, 90], [200, 80]); // overlapping columns, 90: too close
  const thumb = keepClear(L, node, graph, new Map());
  assert.equal(thumb.image, null);
  assert.ok(thumb.thumb && thumb.h <= 90);
  add("4", [50, 30], [200, 80]); // already overlapping the node's content: not a neighbour below
  assert.equal(keepClear(L, node, graph, new Map([["2", { x: 500, w: 10 }], ["3", { x: 500, w: 10 }]])), L);
});

test("history loads NodeFlow's own copy of a run's workflow before ComfyUI's", () => {
  const own = { format: "nodeflow-workflow" };
  const comfy = { nodes: [], links: [] };
  const history = { a: { prompt: [1, "a", {}, { extra_pnginfo: { workflow: comfy, nodeflow_workflow: own } }, []], outputs: {} },
    b: { prompt: [2, "b", {}, { extra_pnginfo: { workflow: comfy } }, []], outputs: {} } };
  const entries = historyEntries(history, () => "");
  assert.equal(entries.find((e) => e.id === "a").workflow, own);
  assert.equal(entries.find((e) => e.id === "b").workflow, comfy);
});

// Settings suited to a known checkpoint (model/model_hints.js).
import assert from "node:assert/strict";
import test from "node:test";
import { activeHint, hintedValues } from "../../web/js/model/model_hints.js";

const graphOf = (...nodes) => ({ nodes: new Map(nodes.map((n) => [n.id, n])) });

test("the demo checkpoint's hint applies only to values still at their defaults", () => {
  const loader = { id: "1", type: "CheckpointLoaderSimple", widgets: { ckpt_name: "nodeflow-demo-sd1.safetensors" } };
  const other = { id: "1", type: "CheckpointLoaderSimple", widgets: { ckpt_name: "v1-5-pruned.safetensors" } };
  assert.equal(activeHint(graphOf(other)), null);
  const hint = activeHint(graphOf(other, { ...loader, id: "2" }));
  assert.equal(hint.label, "the demo checkpoint");
  const defaults = { width: 512, height: 512, batch_size: 1 };
  const latent = { id: "3", type: "EmptyLatentImage", widgets: { width: 512, height: 768, batch_size: 1 } };
  assert.deepEqual(hintedValues(hint, latent, defaults), [["width", 64]]); // height was set by the user
  assert.deepEqual(hintedValues(hint, { id: "4", type: "SaveImage", widgets: {} }, {}), []);
  assert.deepEqual(hintedValues(null, latent, defaults), []);
});

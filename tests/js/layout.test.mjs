// Link handles (render/layout.js).
import assert from "node:assert/strict";
import test from "node:test";
import { linkHandle, linkMidpoint } from "../../web/js/render/layout.js";

test("short links carry no handle dot (it crowded the slots)", () => {
  assert.equal(linkHandle([0, 0], [40, 0]), null);
  assert.deepEqual(linkHandle([0, 0], [300, 100]), linkMidpoint([0, 0], [300, 100]));
});

// History entries for the history panel: newest first, images as /view URLs, the run's workflow.
import assert from "node:assert/strict";
import { test } from "node:test";

import { historyEntries } from "../../web/js/ui/history_panel.js";

test("history items become entries with image URLs and the workflow that ran", () => {
  const workflow = { format: "nodeflow-workflow", version: 1, nodes: [], links: [] };
  const history = {
    a: { prompt: [3, "a", { 1: { class_type: "SaveImage" } }, { extra_pnginfo: { workflow } }, ["1"]],
      outputs: { 1: { images: [{ filename: "x.png", subfolder: "", type: "output" }, { filename: "y.png", subfolder: "s", type: "temp" }] } },
      status: { status_str: "success" } },
    b: { prompt: [7, "b", { 2: { class_type: "Show" } }, {}, ["2"]], outputs: { 2: { text: ["hi"] } }, status: { status_str: "error" } },
  };
  const entries = historyEntries(history, (img) => `/view?filename=${img.filename}&type=${img.type}`);
  assert.deepEqual(entries.map((e) => [e.id, e.number, e.status, e.images.length]), [["b", 7, "error", 0], ["a", 3, "success", 2]]);
  assert.deepEqual(entries[1].images, ["/view?filename=x.png&type=output", "/view?filename=y.png&type=temp"]);
  assert.deepEqual(Object.values(entries[1].byNode).flat(), entries[1].images); // per node, for a reopened run
  assert.equal(entries[1].workflow, workflow);
  assert.equal(entries[0].workflow, null);
  assert.deepEqual(entries[0].prompt, { 2: { class_type: "Show" } });
  assert.deepEqual(historyEntries(null, () => ""), []);
});

test("history entries carry start time, duration and how the run ended (interrupted is not 'error')", async () => {
  const { runTiming, timingLabel } = await import("../../web/js/ui/history_panel.js");
  const ok = runTiming({ status_str: "success", messages: [["execution_start", { timestamp: 1000 }], ["execution_cached", { nodes: [], timestamp: 1001 }],
    ["execution_success", { timestamp: 3300 }]] });
  assert.deepEqual(ok, { started: 1000, duration: 2300, outcome: "success" });
  assert.match(timingLabel(ok), /2\.3 s$/);
  const stopped = runTiming({ status_str: "error", messages: [["execution_start", { timestamp: 5000 }], ["execution_interrupted", { timestamp: 5400 }]] });
  assert.deepEqual(stopped, { started: 5000, duration: 400, outcome: "interrupted" });
  assert.match(timingLabel(stopped), /400 ms$/);
  assert.deepEqual(runTiming({ status_str: "error", messages: "junk" }), { started: null, duration: null, outcome: "error" });
  assert.equal(timingLabel({ started: null, duration: null }), "");
  const { historyEntries } = await import("../../web/js/ui/history_panel.js");
  const [entry] = historyEntries({ a: { prompt: [1, "a", {}, {}, []], outputs: {}, status: { status_str: "error", messages: [["execution_interrupted", {}]] } } }, () => "");
  assert.equal(entry.status, "interrupted");
});

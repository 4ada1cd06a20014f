// The action registry behind the keyboard, the command palette and the shortcuts help.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ActionRegistry, eventKey } from "../../web/js/ui/actions.js";
import { rankActions } from "../../web/js/ui/palette.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

test("key events name their shortcut; Shift is implied by printed symbols", () => {
  assert.equal(eventKey(key("v", { ctrlKey: true, shiftKey: true })), "Ctrl+Shift+V");
  assert.equal(eventKey(key("z", { metaKey: true })), "Ctrl+Z");
  assert.equal(eventKey(key("?", { shiftKey: true })), "?");
  assert.equal(eventKey(key("ArrowLeft", { shiftKey: true })), "Shift+ArrowLeft");
  assert.equal(eventKey(key(".")), ".");
  assert.equal(eventKey(key("PageDown", { altKey: true })), "Alt+PageDown");
});

test("the registry finds actions by key, respects `when`, and replaces by id", () => {
  const registry = new ActionRegistry();
  let ran = 0;
  let enabled = false;
  registry.add({ id: "copy", name: "Copy", keys: ["Ctrl+C"], when: () => enabled, run: () => { ran += 1; } });
  assert.equal(registry.forEvent(key("c", { ctrlKey: true })), null);
  enabled = true;
  registry.forEvent(key("c", { ctrlKey: true })).run();
  assert.equal(ran, 1);
  assert.equal(registry.run("copy"), true);
  assert.equal(ran, 2);
  registry.add({ id: "copy", name: "Copy nodes", keys: ["Ctrl+C"], run: () => {} });
  assert.equal(registry.actions.length, 1);
  assert.equal(registry.get("copy").name, "Copy nodes");
  assert.equal(registry.run("missing"), false);
});

test("the palette ranks actions by fuzzy name and keeps all for an empty query", () => {
  const registry = new ActionRegistry();
  for (const [id, name] of [["fit", "Fit the whole graph in view"], ["new-tab", "New workflow tab"], ["undo", "Undo"],
    ["secret", "Hidden thing"]]) registry.add({ id, name, run: () => {}, hidden: id === "secret" });
  assert.deepEqual(rankActions(registry.actions, "").map((a) => a.id), ["fit", "new-tab", "undo"]);
  assert.equal(rankActions(registry.actions, "nwtab")[0].id, "new-tab");
  assert.equal(rankActions(registry.actions, "fit")[0].id, "fit");
  assert.deepEqual(rankActions(registry.actions, "zzz"), []);
  assert.deepEqual(rankActions(registry.actions, "hidden"), []);
});

test("settings read from the server keep known keys with valid values only", async () => {
  const { DEFAULT_SETTINGS, cleanSettings } = await import("../../web/js/ui/settings.js");
  assert.deepEqual(cleanSettings(null), DEFAULT_SETTINGS);
  assert.deepEqual(cleanSettings({ theme: "light", linkStyle: "straight", snap: true, gridSize: 40, autosave: true, minimap: true, nodeIds: true, extra: 1 }),
    { theme: "light", linkStyle: "straight", snap: true, gridSize: 40, autosave: true, minimap: true, nodeIds: true });
  assert.deepEqual(cleanSettings({ theme: "<b>", linkStyle: 3, snap: "yes", gridSize: 9999 }), DEFAULT_SETTINGS);
});

test("actions sharing a key: the last added whose `when` holds runs", async () => {
  const { ActionRegistry } = await import("../../web/js/ui/actions.js");
  const reg = new ActionRegistry();
  let selected = false;
  reg.add({ id: "queue-front", name: "front", keys: ["Ctrl+Shift+Enter"], run: () => "front" });
  reg.add({ id: "queue-selected", name: "selected", keys: ["Ctrl+Shift+Enter"], when: () => selected, run: () => "selected" });
  const key = { key: "Enter", ctrlKey: true, shiftKey: true, altKey: false, metaKey: false };
  assert.equal(reg.forEvent(key).id, "queue-front");
  selected = true;
  assert.equal(reg.forEvent(key).id, "queue-selected");
  reg.add({ id: "queue-selected", name: "selected", keys: ["Alt+Q"], run: () => "moved" }); // re-added under another key
  assert.equal(reg.forEvent(key).id, "queue-front");
});

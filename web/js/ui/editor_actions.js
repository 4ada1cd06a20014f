// The editor's actions (what the keyboard, the command palette and the help panel list).
import { moveNodes, removeNodes, setProperty } from "../model/commands.js";
import { removeGroup } from "../model/groups.js";
import { openPalette } from "./palette.js";
import { openShortcutsHelp } from "./shortcuts_help.js";

const textSelected = () => !!(window.getSelection && String(window.getSelection()));

export function registerEditorActions(app) {
  const a = app.actions;
  const state = app.state;
  const selected = () => [...state.selection].filter((id) => state.graph.nodes.has(id));
  const some = () => selected().length > 0;
  a.add({ id: "queue", name: "Queue prompt", keys: ["Ctrl+Enter"], run: () => app.queue() });
  a.add({ id: "queue-front", name: "Queue prompt at the front (runs next)", keys: ["Ctrl+Shift+Enter"], run: () => app.queue(null, { front: true }) });
  a.add({ id: "node-ids", name: "Show / hide node id badges", keys: ["Alt+I"], run: () => app.setSetting("nodeIds", !app.settings.nodeIds) });
  a.add({ id: "undo", name: "Undo", keys: ["Ctrl+Z"], run: () => app.undo() });
  a.add({ id: "redo", name: "Redo", keys: ["Ctrl+Y", "Ctrl+Shift+Z"], run: () => app.redo() });
  a.add({ id: "select-all", name: "Select all nodes", keys: ["Ctrl+A"], run: () => { state.selection = new Set(state.graph.nodes.keys()); } });
  a.add({ id: "delete", name: "Delete selected nodes (or the selected group)", keys: ["Delete", "Backspace"], when: () => some() || !!state.selectedGroup,
    run: () => {
      if (some()) { app.run(removeNodes(selected())); state.selection.clear(); } else { app.run(removeGroup(state.selectedGroup)); state.selectedGroup = null; }
    } });
  a.add({ id: "group", name: "Group selected nodes", keys: ["Ctrl+G"], when: some, run: () => app.menus.groupSelection() });
  a.add({ id: "copy", name: "Copy selected nodes", keys: ["Ctrl+C"], when: () => some() && !textSelected(), run: () => app.clipboard.copy() });
  a.add({ id: "paste", name: "Paste at the pointer", keys: ["Ctrl+V"], run: () => app.clipboard.paste(false) });
  a.add({ id: "paste-links", name: "Paste keeping links from outside", keys: ["Ctrl+Shift+V"], run: () => app.clipboard.paste(true) });
  a.add({ id: "duplicate", name: "Duplicate selected nodes", keys: ["Ctrl+D"], when: some, run: () => app.clipboard.duplicate() });
  a.add({ id: "mute", name: "Mute / unmute selected nodes", keys: ["Ctrl+M"], when: some, run: () => app.toggleMode(selected(), "muted") });
  a.add({ id: "collapse", name: "Collapse / expand selected nodes", keys: ["Alt+C"], when: some, run: () => {
    const ids = selected();
    app.run(setProperty(ids, "collapsed", !ids.every((id) => state.graph.nodes.get(id).collapsed)));
  } });
  a.add({ id: "bypass", name: "Bypass / un-bypass selected nodes", keys: ["Ctrl+B"], when: some, run: () => app.toggleMode(selected(), "bypassed") });
  a.add({ id: "fit", name: "Fit the whole graph in view", keys: ["."], run: () => app.fitView() });
  a.add({ id: "save", name: "Save workflow to the server", keys: ["Ctrl+S"], run: () => app.browser.save() });
  a.add({ id: "save-as", name: "Save workflow as…", keys: ["Ctrl+Alt+S"], run: () => app.browser.saveAs() });
  a.add({ id: "export", name: "Export workflow as a JSON file", run: () => app.exportFile() });
  a.add({ id: "open-file", name: "Open a workflow file…", keys: ["Ctrl+O"], run: () => document.getElementById("open-file").click() });
  a.add({ id: "workflows", name: "Show / hide the workflow browser", keys: ["W"], run: () => app.browser.toggle() });
  a.add({ id: "new-tab", name: "New workflow tab", keys: ["Alt+N"], run: () => app.tabs.create() });
  a.add({ id: "close-tab", name: "Close workflow tab", keys: ["Alt+W"], run: () => app.tabs.close(app.tabs.active) });
  const step = (d) => () => { const t = app.tabs.tabs; app.tabs.activate(t[(t.indexOf(app.tabs.active) + d + t.length) % t.length]); };
  a.add({ id: "next-tab", name: "Next workflow tab", keys: ["Alt+PageDown"], run: step(1) });
  a.add({ id: "previous-tab", name: "Previous workflow tab", keys: ["Alt+PageUp"], run: step(-1) });
  a.add({ id: "history", name: "Show / hide the run history", keys: ["H"], run: () => app.history.toggle() });
  a.add({ id: "gallery", name: "Show the output gallery", keys: ["G"], run: () => { app.history.toggle(true); app.history.show("gallery"); } });
  a.add({ id: "palette", name: "Command palette", keys: ["Ctrl+K"], run: () => openPalette(app) });
  a.add({ id: "shortcuts", name: "Keyboard shortcuts help", keys: ["?"], run: () => openShortcutsHelp(app) });
  // Arrow keys nudge the selection (by the grid step with Shift); a run of nudges is one undo step.
  const nudge = (dx, dy, big) => () => {
    const ids = selected().filter((id) => !(state.graph.nodes.get(id) || {}).pinned); // pinned nodes stay put
    const step = big ? app.settings.gridSize : app.settings.snap ? app.settings.gridSize / 4 : 10;
    app.run(moveNodes(ids, dx * step, dy * step, `nudge:${ids.join(",")}`));
  };
  for (const [key, dx, dy, dir] of [["ArrowLeft", -1, 0, "left"], ["ArrowRight", 1, 0, "right"], ["ArrowUp", 0, -1, "up"], ["ArrowDown", 0, 1, "down"]]) {
    a.add({ id: `nudge-${dir}`, name: `Nudge selection ${dir}`, keys: [key], when: some, run: nudge(dx, dy, false) });
    a.add({ id: `nudge-${dir}-far`, name: `Nudge selection ${dir} by a grid step`, keys: [`Shift+${key}`], when: some, run: nudge(dx, dy, true) });
  }
  a.add({ id: "minimap", name: "Show / hide the minimap", keys: ["M"], run: () => app.viewControls.setMinimap(!app.settings.minimap) });
  a.add({ id: "snap", name: "Snap to grid on / off", keys: ["Shift+S"], run: () => app.viewControls.setSnap(!app.settings.snap) });
  a.add({ id: "settings", name: "Settings", keys: ["Ctrl+,"], run: () => app.settingsStore.toggle() });
  a.add({ id: "theme", name: "Switch light / dark theme", run: () => app.setSetting("theme", app.settings.theme === "dark" ? "light" : "dark") });
  a.add({ id: "link-style", name: "Switch straight / curved links", run: () => app.setSetting("linkStyle", app.settings.linkStyle === "spline" ? "straight" : "spline") });
  a.add({ id: "escape", name: "Close menus and clear the selection", keys: ["Escape"], run: () => { app.closeOverlays(); state.selection.clear(); state.selectedGroup = null; } });
}

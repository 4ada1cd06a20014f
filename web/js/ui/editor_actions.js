// The editor's actions (what the keyboard, the command palette and the help panel list).
import { removeNodes } from "../model/commands.js";
import { removeGroup } from "../model/groups.js";

const textSelected = () => !!(window.getSelection && String(window.getSelection()));

export function registerEditorActions(app) {
  const a = app.actions;
  const state = app.state;
  const selected = () => [...state.selection].filter((id) => state.graph.nodes.has(id));
  const some = () => selected().length > 0;
  a.add({ id: "queue", name: "Queue prompt", keys: ["Ctrl+Enter"], run: () => app.queue() });
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
  a.add({ id: "bypass", name: "Bypass / un-bypass selected nodes", keys: ["Ctrl+B"], when: some, run: () => app.toggleMode(selected(), "bypassed") });
  a.add({ id: "fit", name: "Fit the whole graph in view", keys: ["."], run: () => app.fitView() });
  a.add({ id: "escape", name: "Close menus and clear the selection", keys: ["Escape"], run: () => { app.closeOverlays(); state.selection.clear(); } });
}

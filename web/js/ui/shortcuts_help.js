// The shortcuts help (?): every action that has a key, read from the same registry as the keyboard.

export function openShortcutsHelp(app) {
  app.closeOverlays();
  const panel = document.createElement("div");
  panel.className = "shortcuts-help";
  panel.tabIndex = -1;
  const title = document.createElement("h2");
  title.textContent = "Keyboard shortcuts";
  const table = document.createElement("table");
  const mouse = [
    ["Double-click canvas", "Search nodes"], ["Drag output → empty canvas", "Search nodes that take it, then connect"],
    ["Shift+drag from an output", "Move all its links to another output"], ["Click a link's middle dot", "Add reroute / delete link"],
    ["Right-click a widget or input", "Convert widget ↔ input"], ["Double-click a group title", "Rename the group"],
    ["Alt+drag or middle-drag", "Pan"], ["Ctrl/Shift+drag", "Box select"],
  ];
  const rows = [...app.actions.actions.filter((a) => a.keys.length && !a.hidden).map((a) => [a.keys.join(" / "), a.name]), ...mouse];
  for (const [keys, name] of rows) {
    const tr = document.createElement("tr");
    const k = document.createElement("td");
    const kbd = document.createElement("kbd");
    kbd.textContent = keys;
    k.append(kbd);
    const n = document.createElement("td");
    n.textContent = name;
    tr.append(k, n);
    table.append(tr);
  }
  const hint = document.createElement("p");
  hint.textContent = "Ctrl+K opens the command palette with every action. Esc closes this.";
  panel.append(title, table, hint);
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape" || e.key === "?") { e.stopPropagation(); app.closeOverlays(); } });
  panel.addEventListener("pointerdown", (e) => e.stopPropagation());
  app.showOverlay(panel);
  panel.focus();
  return panel;
}

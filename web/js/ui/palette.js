// The command palette (Ctrl+K): every action by name, fuzzy-filtered; Enter runs the highlighted one.
import { fuzzyScore } from "../model/search.js";

/** Actions ranked for `query` (all of them, in registry order, for an empty query). */
export function rankActions(actions, query) {
  if (!query.trim()) return actions.filter((a) => !a.hidden);
  return actions.filter((a) => !a.hidden)
    .map((action) => ({ action, score: Math.max(fuzzyScore(query, action.name), fuzzyScore(query, action.id) - 1) }))
    .filter((r) => r.score >= 0)
    .sort((a, b) => b.score - a.score)
    .map((r) => r.action);
}

export function openPalette(app) {
  app.closeOverlays();
  const box = document.createElement("div");
  box.className = "palette";
  const field = document.createElement("input");
  field.placeholder = "Type a command…";
  field.setAttribute("aria-label", "Command");
  const list = document.createElement("ul");
  box.append(field, list);
  let results = [];
  let active = 0;
  const run = (action) => {
    app.closeOverlays();
    if (action.when()) action.run(); else app.toast(`${action.name}: not available now`, "warning");
    app.view.requestDraw();
  };
  const render = () => {
    results = rankActions(app.actions.actions, field.value);
    active = Math.min(active, Math.max(0, results.length - 1));
    list.replaceChildren(...results.map((action, i) => {
      const item = document.createElement("li");
      item.dataset.action = action.id;
      if (i === active) item.className = "active";
      if (!action.when()) item.classList.add("disabled");
      const name = document.createElement("span");
      name.textContent = action.name;
      const keys = document.createElement("kbd");
      keys.textContent = action.keys.join("  ");
      item.append(name, keys);
      item.addEventListener("pointerdown", (e) => { e.preventDefault(); run(action); });
      return item;
    }));
    list.children[active]?.scrollIntoView({ block: "nearest" });
  };
  field.addEventListener("input", () => { active = 0; render(); });
  field.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "ArrowDown") { active = Math.min(results.length - 1, active + 1); render(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(0, active - 1); render(); e.preventDefault(); }
    else if (e.key === "Enter" && results[active]) { e.preventDefault(); run(results[active]); }
    else if (e.key === "Escape") app.closeOverlays();
  });
  app.showOverlay(box);
  render();
  field.focus();
  return box;
}

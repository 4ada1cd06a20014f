// The node search box (double-click on the canvas, or a link dropped on empty space).
import { linkPreference, searchNodes } from "../model/search.js";
import { inputSpecs, typesMatch, widgetKind } from "../model/types.js";
import { keepInside } from "./place.js";

export function openSearch(app, clientX, clientY, pending = {}) {
  const box = document.createElement("div");
  box.className = "search-box";
  box.style.left = `${clientX}px`;
  box.style.top = `${clientY}px`;
  const field = document.createElement("input");
  field.placeholder = pending.output || pending.input ? `nodes that take ${(pending.output || pending.input).type}…` : "search nodes…";
  const list = document.createElement("ul");
  box.append(field, list);
  let results = [];
  let active = 0;
  const filter = (info) => {
    if (pending.output) return inputSpecs(info).some(({ spec }) => !widgetKind(spec) && typesMatch(pending.output.type, spec[0]));
    if (pending.input) return (info.output || []).some((t) => typesMatch(t, pending.input.type));
    return true;
  };
  const render = () => {
    results = searchNodes(app.state.objectInfo, field.value, filter, 40, linkPreference(pending));
    if (!field.value.trim() && !pending.output && !pending.input) {
      results.sort((a, b) => a.demoted - b.demoted || (a.info.category || "").localeCompare(b.info.category || "") || a.name.localeCompare(b.name));
    }
    active = Math.min(active, Math.max(0, results.length - 1));
    list.replaceChildren(...results.map((r, i) => {
      const item = document.createElement("li");
      if (i === active) item.className = "active";
      const name = document.createElement("span");
      name.textContent = r.info.display_name || r.name;
      const category = document.createElement("small");
      category.textContent = r.info.category || "";
      item.append(name, category);
      item.addEventListener("pointerdown", (e) => { e.preventDefault(); choose(r.name); });
      return item;
    }));
  };
  const choose = (type) => {
    const [gx, gy] = app.view.toGraph(clientX, clientY);
    app.closeOverlays();
    app.addNodeAt(type, gx, gy, pending);
  };
  field.addEventListener("input", () => { active = 0; render(); });
  field.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "ArrowDown") { active = Math.min(results.length - 1, active + 1); render(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(0, active - 1); render(); e.preventDefault(); }
    else if (e.key === "Enter" && results[active]) choose(results[active].name);
    else if (e.key === "Escape") app.closeOverlays();
  });
  app.showOverlay(box);
  render();
  list.style.maxHeight = `${Math.min(320, window.innerHeight - 80)}px`;
  keepInside(box, clientX, clientY); // the list's full height is reserved, so later results never run off
  field.focus();
}

// The workflow library: a templates browser (GET /nodeflow/templates: web/examples/ and the packs'
// example_workflows/), each template opened in its own tab; and the missing-models dialog shown when
// an opened workflow names model files this server does not have (model/missing_models.js), a panel
// whose rows lead to the nodes.
import { missingModels } from "../model/missing_models.js";
import { modal } from "./dialog.js";
import { focusNode } from "./errors_panel.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A modal with a close button; resolves when closed. Escape closes it. */
function closable(title, message, fill) {
  return new Promise((resolve) => {
    const { backdrop, box } = modal(title, message);
    box.classList.add("library-dialog");
    const close = () => { backdrop.remove(); document.removeEventListener("keydown", onKey, true); resolve(); };
    const onKey = (e) => { if (e.key === "Escape") { e.stopPropagation(); e.preventDefault(); close(); } };
    document.addEventListener("keydown", onKey, true);
    backdrop.addEventListener("pointerdown", (e) => { if (e.target === backdrop) close(); });
    fill(box, close);
    const row = el("div", "dialog-buttons");
    const ok = el("button", "primary", "Close");
    ok.addEventListener("click", close);
    row.append(ok);
    box.append(row);
    ok.focus();
  });
}

export class Library {
  constructor(app) {
    this.app = app;
    this.modelInputs = null; // {class: {input: folder}}, read once
    document.getElementById("templates-button").addEventListener("click", () => this.browse());
  }

  async templates() {
    try { return await this.app.api.json("/nodeflow/templates"); } catch (err) {
      this.app.toast(`Could not list the templates: ${err.message}`, "error");
      return [];
    }
  }

  /** The templates browser: one section per source, a card per workflow. */
  async browse() {
    const items = await this.templates();
    const bySource = new Map();
    for (const item of items) {
      if (!bySource.has(item.source)) bySource.set(item.source, []);
      bySource.get(item.source).push(item);
    }
    await closable("Templates", items.length ? "Example workflows from NodeFlow and your plugin packs; each opens in a new tab."
      : "No example workflows: NodeFlow's are in web/examples/, a pack's in its example_workflows/ folder.", (box, close) => {
      const list = el("div", "templates");
      for (const [source, entries] of bySource) {
        list.append(el("h4", "", source));
        const grid = el("div", "template-grid");
        for (const item of entries) {
          const card = el("button", "template-card");
          card.dataset.template = `${item.source}/${item.name}`;
          if (item.thumbnail) {
            const img = el("img");
            img.alt = "";
            img.src = item.thumbnail;
            card.append(img);
          }
          card.append(el("span", "", item.name.replace(/[_-]+/g, " ")));
          card.addEventListener("click", async () => { close(); await this.open(item); });
          grid.append(card);
        }
        list.append(grid);
      }
      box.append(list);
    });
  }

  async open(item) {
    let data;
    try {
      const response = await fetch(item.url);
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      data = await response.json();
    } catch (err) {
      this.app.toast(`Could not open the template ${item.name}: ${err.message}`, "error");
      return null;
    }
    return this.app.openInNewTab(data, item.name.replace(/[_-]+/g, " ")); // checks its models
  }

  /** After a workflow opens: list every model file it needs that is missing, with its folder (a panel, not modal). */
  async checkModels() {
    if (!this.modelInputs) {
      try { this.modelInputs = await this.app.api.json("/nodeflow/model_inputs"); } catch { this.modelInputs = {}; }
    }
    const missing = missingModels(this.app.state.graph, this.app.state.objectInfo, this.modelInputs);
    this.showMissing(missing);
    return missing;
  }

  showMissing(missing) {
    document.getElementById("missing-models")?.remove();
    if (!missing.length) return;
    const panel = el("section", "panel missing-models-panel");
    panel.id = "missing-models";
    const heading = el("h2", "", "Missing models");
    const close = el("button", "panel-close", "×");
    close.title = "Close";
    close.addEventListener("click", () => panel.remove());
    heading.append(close);
    const intro = el("p", "", `This workflow needs ${missing.length} model file${missing.length === 1 ? "" : "s"} this server does not have. `
      + "Put each one in the folder named (inside your models folder), then reopen the workflow or pick another file on the node.");
    const table = el("table", "missing-models");
    const head = el("tr");
    for (const label of ["file", "folder", "node"]) head.append(el("th", "", label));
    table.append(head);
    for (const m of missing) {
      const row = el("tr");
      row.dataset.node = m.node;
      row.title = "Show this node";
      row.append(el("td", "model-name", m.name), el("td", "model-folder", `models/${m.folder}/`), el("td", "", `#${m.node} ${m.title} · ${m.input}`));
      row.addEventListener("click", () => focusNode(this.app, m.node));
      table.append(row);
    }
    panel.append(heading, intro, table);
    document.querySelector("main").append(panel);
  }
}

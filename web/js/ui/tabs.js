// Workflow tabs: each open workflow has its own graph, undo history, viewport and run results.
// The tab bar shows a dirty marker; closing a tab with unsaved changes asks first. Open tabs are
// kept in the browser (localStorage) so a reload brings them back.
import { CommandStack } from "../model/commands.js";
import { Graph } from "../model/graph.js";
import { choose } from "./dialog.js";

const TABS_KEY = "nodeflow.tabs";
const OLD_KEY = "nodeflow.workflow"; // the single autosaved workflow of earlier versions

const freshRuntime = () => ({ executing: null, progress: new Map(), errors: new Map(), images: new Map(), previews: new Map(), texts: new Map() });

export class Tabs {
  constructor(app, element) {
    this.app = app;
    this.element = element;
    this.tabs = [];
    this.current = null;
    this.counter = 0;
  }

  get active() { return this.current; }

  /** A new tab from a NodeFlow workflow (or empty); made active unless `activate` is false. */
  create({ name = "Unsaved workflow", path = null, data = null, dirty = false, activate = true } = {}) {
    let graph = new Graph();
    graph.customWidgets = this.app.customWidgets;
    graph.hooks = this.app.extensionHost.graphHooks;
    if (data) {
      this.app.extensionHost.beforeLoad(data);
      const loaded = Graph.fromJSON(data, this.app.state.objectInfo, this.app.customWidgets, graph.hooks);
      graph = loaded.graph;
      for (const w of loaded.warnings) this.app.toast(`${name}: node ${w.node}: ${w.message}`, "warning");
      this.app.extensionHost.graphLoaded(graph);
    }
    const tab = { id: ++this.counter, name, path, graph, runtime: freshRuntime(), restoredDirty: dirty, wasDirty: dirty };
    tab.stack = new CommandStack(graph, () => this.app.changed(tab));
    this.tabs.push(tab);
    if (activate) this.activate(tab); else this.render();
    return tab;
  }

  activate(tab) {
    const app = this.app;
    app.subgraphs?.leave(); // an opened subgraph is committed and closed first
    this.current = tab;
    app.state.graph = tab.graph;
    app.state.runtime = tab.runtime;
    app.state.selection = new Set();
    app.state.selectedGroup = null;
    app.state.drag = null;
    app.stack = tab.stack;
    app.closeOverlays();
    app.view.layouts.clear();
    app.view.requestDraw();
    this.render();
    app.errorsPanel.render(); // the errors panel shows this tab's errors
    this.persist();
  }

  isDirty(tab) { return tab.restoredDirty || tab.stack.dirty; }

  markSaved(tab, path = tab.path, name = tab.name) {
    tab.stack.markSaved();
    Object.assign(tab, { path, name, restoredDirty: false });
    this.render();
    this.persist();
  }

  findByPath(path) { return this.tabs.find((t) => t.path === path) || null; }

  /** Close `tab`; asks to save unsaved changes. Resolves false when the user cancels. */
  async close(tab) {
    if (this.isDirty(tab)) {
      const answer = await choose("Unsaved changes", `“${tab.name}” has changes that are not saved.`,
        [{ label: "Cancel", value: null }, { label: "Discard", value: "discard" }, { label: "Save", value: "save", primary: true }]);
      if (answer === null) return false;
      if (answer === "save" && !(await this.app.browser.save(tab))) return false;
    }
    const index = this.tabs.indexOf(tab);
    this.tabs.splice(index, 1);
    if (!this.tabs.length) this.create();
    else if (tab === this.current) this.activate(this.tabs[Math.min(index, this.tabs.length - 1)]);
    else { this.render(); this.persist(); }
    return true;
  }

  /** Called on every edit: refresh the dirty marker only when it flips. */
  touched(tab) {
    const dirty = this.isDirty(tab);
    if (dirty !== tab.wasDirty) { tab.wasDirty = dirty; this.render(); }
  }

  render() {
    const items = this.tabs.map((tab) => {
      tab.wasDirty = this.isDirty(tab);
      const item = document.createElement("div");
      item.className = `tab${tab === this.current ? " active" : ""}${this.isDirty(tab) ? " dirty" : ""}`;
      item.dataset.tab = String(tab.id);
      item.title = tab.path || "not saved on the server yet";
      const label = document.createElement("span");
      label.className = "tab-name";
      label.textContent = tab.name;
      const run = document.createElement("span");
      run.className = "tab-run"; // running percentage or "queued" (ui/queue_status.js)
      const marker = document.createElement("span");
      marker.className = "tab-dirty";
      marker.textContent = this.isDirty(tab) ? "●" : "";
      const close = document.createElement("button");
      close.className = "tab-close";
      close.textContent = "×";
      close.title = "Close";
      close.addEventListener("click", (e) => { e.stopPropagation(); this.close(tab); });
      item.addEventListener("click", () => { if (tab !== this.current) this.activate(tab); });
      item.append(label, run, marker, close);
      return item;
    });
    const add = document.createElement("button");
    add.className = "tab-new";
    add.textContent = "+";
    add.title = "New workflow";
    add.addEventListener("click", () => this.create());
    this.element.replaceChildren(...items, add);
    this.app.queueStatus.paintAll();
  }

  // --- kept in the browser across reloads ----------------------------------------------------
  persist() {
    const data = { active: this.tabs.indexOf(this.current),
      tabs: this.tabs.map((t) => ({ name: t.name, path: t.path, dirty: this.isDirty(t), workflow: t.graph.toJSON() })) };
    try { localStorage.setItem(TABS_KEY, JSON.stringify(data)); } catch { /* storage full */ }
  }

  /** Reopen the tabs of the last session; false when there were none. */
  restore() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(TABS_KEY) || "null");
      if (!saved) {
        const old = localStorage.getItem(OLD_KEY);
        if (old) saved = { active: 0, tabs: [{ name: "Unsaved workflow", path: null, dirty: true, workflow: JSON.parse(old) }] };
      }
    } catch { saved = null; }
    if (!saved || !Array.isArray(saved.tabs) || !saved.tabs.length) return false;
    for (const t of saved.tabs) {
      try { this.create({ name: String(t.name || "Unsaved workflow"), path: t.path || null, data: t.workflow, dirty: !!t.dirty, activate: false }); } catch { /* skip a broken one */ }
    }
    if (!this.tabs.length) return false;
    this.activate(this.tabs[Math.max(0, Math.min(this.tabs.length - 1, saved.active | 0))]);
    return true;
  }
}

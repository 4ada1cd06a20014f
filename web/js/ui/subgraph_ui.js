// Subgraphs in the editor UI: convert the selection, open an instance (a breadcrumb leads back
// out), edit inside with its own undo history (leaving commits the edits as one undoable step
// outside), promote / unpromote inner widgets, unpack, save to the user library (the saved
// subgraphs appear in node search), and "queue selected outputs" (partial execution).
import { CommandStack } from "../model/commands.js";
import { Graph } from "../model/graph.js";
import { IN, OUT, convertToSubgraph, definitionFrom, dependencies, innerWorkflow, isInstance, outputTargets,
  promotedKey, setDefinitions, setPromoted, subgraphInfo, unpackSubgraph } from "../model/subgraphs.js";
import { ask } from "./dialog.js";

export const LIBRARY_DIR = "subgraphs";

export class SubgraphUI {
  constructor(app) {
    this.app = app;
    this.path = []; // frames: {graph, stack, definitionId, instanceId, viewport}
    this.library = new Map(); // definition id -> {definition, definitions}
    this.crumbs = document.createElement("nav");
    this.crumbs.id = "subgraph-breadcrumb";
    this.crumbs.hidden = true;
    Object.assign(this.crumbs.style, { position: "absolute", left: "12px", top: "90px", zIndex: 5, display: "none", gap: "6px",
      padding: "4px 8px", borderRadius: "6px", background: "var(--panel, #222)", color: "var(--text, #ddd)", font: "13px sans-serif" });
    document.body.append(this.crumbs);
  }

  get state() { return this.app.state; }
  /** The id prefix of run events for the graph shown ("" at the top, "12:" inside instance 12). */
  get prefix() { return this.path.map((f) => `${f.instanceId}:`).join(""); }
  /** The workflow of the tab (what is saved and queued), wherever the editor is looking. */
  root() { return this.path.length ? this.path[0].graph : this.state.graph; }

  /** The tab's workflow (NodeFlow JSON) including edits made in the opened subgraphs not yet left. */
  workflow() {
    const json = this.root().toJSON();
    if (!this.path.length) return json;
    const defs = new Map(this.state.graph.subgraphs);
    for (let i = this.path.length - 1; i >= 0; i--) {
      const child = i === this.path.length - 1 ? this.state.graph : this.path[i + 1].graph;
      const id = this.path[i].definitionId;
      defs.set(id, definitionFrom(child, defs.get(id) || this.path[i].graph.subgraphs.get(id)));
    }
    json.subgraphs = [...defs.values()].map((d) => structuredClone(d));
    return json;
  }

  selected() { return [...this.state.selection].filter((id) => this.state.graph.nodes.has(id) && id !== IN && id !== OUT); }

  // --- actions and menus ------------------------------------------------------------------
  register() {
    const a = this.app.actions;
    const one = () => { const ids = this.selected(); return ids.length === 1 && isInstance(this.state.graph, this.state.graph.nodes.get(ids[0])) ? ids[0] : null; };
    a.add({ id: "subgraph-convert", name: "Convert selection to subgraph", keys: ["Ctrl+Shift+E"], when: () => this.selected().length > 0, run: () => this.convert() });
    a.add({ id: "subgraph-open", name: "Open the selected subgraph", when: () => !!one(), run: () => this.enter(one()) });
    a.add({ id: "subgraph-unpack", name: "Unpack the selected subgraph", when: () => !!one(), run: () => this.unpack(one()) });
    a.add({ id: "subgraph-leave", name: "Leave the subgraph (back to its parent)", keys: ["Alt+ArrowUp"], when: () => this.path.length > 0, run: () => this.leave(1) });
    a.add({ id: "subgraph-save", name: "Save the selected subgraph to the library", when: () => !!one(), run: () => this.saveToLibrary(one()) });
    a.add({ id: "queue-selected-outputs", name: "Queue selected output nodes", keys: ["Ctrl+Shift+Enter"], when: () => this.selected().length > 0, run: () => this.queueSelectedOutputs() });
    this.app.extensionHost.register({ name: "nodeflow.subgraphs", menuItems: (node) => this.menuItems(node) });
  }

  menuItems(node) {
    const graph = this.state.graph;
    if (node.id === IN || node.id === OUT) return [];
    const items = [{ label: "Convert to subgraph", run: () => this.convert() }];
    if (isInstance(graph, node)) {
      items.push({ label: "Open subgraph", run: () => this.enter(node.id) }, { label: "Unpack subgraph", run: () => this.unpack(node.id) },
        { label: "Rename subgraph", run: () => this.renameDefinition(node.type) },
        { label: "Save subgraph to library", run: () => this.saveToLibrary(node.id) });
      const promoted = (node.promoted || []).filter((e) => e.node !== "-1");
      if (promoted.length) items.push({ label: "Unpromote widget", children: promoted.map((e) => ({ label: promotedKey(e), run: () => this.promote(null, e.node, e.widget, false, node.id) })) });
    }
    const frame = this.path[this.path.length - 1];
    const widgets = Object.keys(node.widgets || {});
    if (frame && widgets.length) {
      items.push({ label: "Promote widget", children: widgets.map((w) => ({ label: w, run: () => this.promote(frame, node.id, w, true) })) });
    }
    if (outputTargets(graph, node, this.state.objectInfo, this.prefix).length) {
      items.push({ label: "Queue selected outputs", run: () => this.queueSelectedOutputs() });
    }
    return items;
  }

  // --- edits ------------------------------------------------------------------------------
  async convert() {
    const ids = this.selected();
    if (!ids.length) return this.app.toast("Select the nodes to put in the subgraph first", "warning");
    const command = this.app.run(convertToSubgraph(ids, this.state.objectInfo, { name: "New subgraph" }));
    this.state.selection = new Set([command.result]);
    this.app.view.layouts.clear();
    this.app.view.requestDraw();
    return command.result;
  }

  unpack(instanceId) {
    const command = this.app.run(unpackSubgraph(instanceId, this.state.objectInfo));
    this.state.selection = new Set(command.result);
    this.app.view.layouts.clear();
  }

  /** Promote inner widget `widget` of `innerId` (inside the frame's instance), or unpromote on `instanceId`. */
  promote(frame, innerId, widget, on, instanceId = null) {
    if (frame) { // inside: the instance lives in the parent graph, edited with the parent's history
      const value = (this.state.graph.nodes.get(innerId) || { widgets: {} }).widgets[widget]; // as edited in here
      frame.stack.run(setPromoted(frame.instanceId, innerId, widget, on, this.state.objectInfo, value));
      this.app.toast(`${widget} is shown on the subgraph node`, "info");
    } else this.app.run(setPromoted(instanceId, innerId, widget, on, this.state.objectInfo));
    this.app.view.layouts.clear();
    this.app.view.requestDraw();
  }

  /** Rename the definition (every instance shows the new name), one undo step. */
  async renameDefinition(definitionId) {
    const graph = this.state.graph;
    const definition = graph.subgraphs.get(definitionId);
    const name = await ask("Rename subgraph", "Name", definition.name || "Subgraph", "Rename");
    if (!name || name === definition.name) return;
    this.app.run(setDefinitions(new Map([...graph.subgraphs, [definitionId, { ...definition, name }]]), `rename subgraph ${name}`));
  }

  // --- navigation -------------------------------------------------------------------------
  enter(instanceId) {
    const app = this.app;
    const outer = this.state.graph;
    const instance = outer.nodes.get(instanceId);
    const definition = instance && outer.subgraphs.get(instance.type);
    if (!definition) return;
    const data = { ...innerWorkflow(definition), subgraphs: [...outer.subgraphs.values()], io: definition };
    const { graph, warnings } = Graph.fromJSON(data, this.state.objectInfo, app.customWidgets, app.extensionHost.graphHooks);
    for (const w of warnings) app.toast(`${definition.name}: node ${w.node}: ${w.message}`, "warning");
    const tab = app.tabs.active;
    this.path.push({ graph: outer, stack: app.stack, definitionId: definition.id, instanceId, viewport: outer.viewport, selection: this.state.selection });
    this.state.graph = graph;
    app.stack = new CommandStack(graph, () => app.changed(tab));
    this.state.selection = new Set();
    app.view.layouts.clear();
    app.fitView();
    this.render();
  }

  /** Go up `levels` (all by default), committing each level's edits to its definition. */
  leave(levels = this.path.length) {
    const app = this.app;
    if (!this.path.length) return;
    for (let i = 0; i < levels && this.path.length; i++) {
      const frame = this.path.pop();
      const inner = this.state.graph;
      const before = frame.graph.subgraphs.get(frame.definitionId);
      const after = definitionFrom(inner, before);
      const definitions = new Map(inner.subgraphs);
      definitions.set(frame.definitionId, after);
      this.state.graph = frame.graph;
      app.stack = frame.stack;
      this.state.selection = new Set([frame.instanceId]);
      const same = JSON.stringify([...definitions]) === JSON.stringify([...frame.graph.subgraphs]);
      if (!same) frame.stack.run(setDefinitions(definitions, `edit subgraph ${after.name || ""}`.trim(), this.state.objectInfo));
      this.state.graph.viewport = frame.viewport;
    }
    app.view.layouts.clear();
    app.viewChanged();
    this.render();
  }

  render() {
    this.crumbs.hidden = !this.path.length;
    this.crumbs.style.display = this.path.length ? "flex" : "none";
    const names = this.path.map((f) => (f.graph.subgraphs.get(f.definitionId) || {}).name || "Subgraph");
    const parts = [["Workflow", this.path.length], ...names.map((n, i) => [n, this.path.length - 1 - i])];
    this.crumbs.replaceChildren(...parts.flatMap(([label, up], i) => {
      const el = document.createElement(up ? "a" : "span");
      el.textContent = label;
      el.className = "crumb";
      if (up) { el.href = "#"; el.style.color = "inherit"; el.addEventListener("click", (e) => { e.preventDefault(); this.leave(up); }); }
      return i ? [Object.assign(document.createElement("span"), { textContent: "›" }), el] : [el];
    }));
  }

  // --- library ----------------------------------------------------------------------------
  async saveToLibrary(instanceId) {
    const graph = this.state.graph;
    const definition = graph.subgraphs.get(graph.nodes.get(instanceId).type);
    const name = await ask("Save subgraph", "Name in the library", definition.name || "Subgraph", "Save");
    if (!name) return;
    const saved = { ...definition, name };
    const bundle = { definition: saved, definitions: dependencies(definition, graph.subgraphs) };
    try {
      await this.app.api.saveUserdata(`${LIBRARY_DIR}/${name.replace(/[^\w. -]+/g, "_")}.json`, bundle);
    } catch (err) {
      return this.app.toast(`Could not save the subgraph: ${err.message}`, "error");
    }
    this.addToLibrary(bundle);
    this.app.toast(`Saved “${name}” to the library: find it in node search`, "info");
  }

  addToLibrary(bundle) {
    const defs = new Map([bundle.definition, ...(bundle.definitions || [])].map((d) => [d.id, d]));
    this.library.set(bundle.definition.id, bundle);
    this.state.objectInfo[bundle.definition.id] = { ...subgraphInfo(bundle.definition, defs, this.state.objectInfo),
      category: "subgraphs/library", subgraph_blueprint: bundle };
  }

  async loadLibrary() {
    let files = [];
    try { files = await this.app.api.listUserdataIfPresent(LIBRARY_DIR); } catch { return; } // no library yet
    for (const file of files || []) {
      try {
        const bundle = await this.app.api.getUserdata(`${LIBRARY_DIR}/${file}`);
        if (bundle && bundle.definition && bundle.definition.id) this.addToLibrary(bundle);
      } catch (err) {
        this.app.toast(`Subgraph library: ${file} could not be read (${err.message})`, "warning");
      }
    }
  }

  /** Library entries survive a refresh of /object_info. */
  restoreLibrary() { for (const bundle of this.library.values()) this.addToLibrary(bundle); }

  // --- running ----------------------------------------------------------------------------
  async queueSelectedOutputs() {
    const graph = this.state.graph;
    const targets = this.selected().flatMap((id) => outputTargets(graph, graph.nodes.get(id), this.state.objectInfo, this.prefix));
    if (!targets.length) return this.app.toast("None of the selected nodes is an output node (or holds one)", "warning");
    return this.app.queue(1, { partial_execution_targets: targets });
  }
}

// The editor application: wires the model, the renderer, the interaction layer and the API.
import { ApiClient } from "./api/client.js";
import { CommandStack, addNode, connect, replaceGraph, setProperty, setWidget } from "./model/commands.js";
import { EDITOR_NODES, effectiveInfo } from "./model/editor_nodes.js";
import { Graph } from "./model/graph.js";
import { activeHint, hintedValues } from "./model/model_hints.js";
import { applyControls } from "./model/prompt.js";
import { inputSpecs, typesMatch } from "./model/types.js";
import { CanvasView } from "./render/canvas.js";
import { nodeImages } from "./render/node_images.js";
import { ActionRegistry } from "./ui/actions.js";
import { AutoQueue } from "./ui/auto_queue.js";
import { canvasMenuItems } from "./ui/canvas_menu.js";
import { ClipboardActions } from "./ui/clipboard.js";
import { ContextMenus } from "./ui/context_menus.js";
import { registerEditorActions } from "./ui/editor_actions.js";
import { Interaction } from "./ui/interaction.js";
import { libraryItems, showMenu } from "./ui/menu.js";
import { HistoryPanel } from "./ui/history_panel.js";
import { QueuePanel } from "./ui/queue_panel.js";
import { QueueStatus } from "./ui/queue_status.js";
import { ErrorsPanel } from "./ui/errors_panel.js";
import { TextAreaLayer } from "./ui/text_areas.js";
import { HoverTips } from "./ui/hover.js";
import { Library } from "./ui/library.js";
import { exclusivePanels } from "./ui/panels.js";
import { RunEvents } from "./ui/run_events.js";
import { ExtensionHost } from "./ui/extensions.js";
import { exportAs } from "./ui/export_menu.js";
import { installImageTools } from "./ui/image_tools.js";
import { DEFAULT_SETTINGS, SettingsStore } from "./ui/settings.js";
import { ViewControls } from "./ui/view_controls.js";
import { openSearch } from "./ui/search_box.js";
import { SubgraphUI } from "./ui/subgraph_ui.js";
import { Tabs } from "./ui/tabs.js";
import { bindDrop, bindToolbar } from "./ui/toolbar.js";
import { WidgetEditor } from "./ui/widgets.js";
import { WorkflowBrowser } from "./ui/workflow_browser.js";

const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.api = new ApiClient("");
    this.extensions = [];
    this.customWidgets = new Map(); // socket type -> widget factory from an extension, shared by every tab
    this.settings = { ...DEFAULT_SETTINGS };
    this.state = {
      graph: new Graph(), objectInfo: {}, selection: new Set(), drag: null, selectedGroup: null,
      runtime: { executing: null, progress: new Map(), errors: new Map(), images: new Map(), previews: new Map(), texts: new Map() },
    };
    this.stack = new CommandStack(this.state.graph); // replaced by the active tab's
    this.view = new CanvasView($("canvas"), this.state);
    this.widgets = new WidgetEditor(this);
    this.textAreas = new TextAreaLayer(this, $("text-widgets"));
    this.interaction = new Interaction(this);
    this.hover = new HoverTips(this);
    this.clipboard = new ClipboardActions(this);
    this.menus = new ContextMenus(this);
    this.actions = new ActionRegistry();
    registerEditorActions(this);
    this.queuePanel = new QueuePanel(this, $("queue-panel"));
    this.queueStatus = new QueueStatus(this);
    this.autoQueue = new AutoQueue(this, $("auto-queue"));
    this.errorsPanel = new ErrorsPanel(this, $("error-panel"));
    this.runEvents = new RunEvents(this);
    this.tabs = new Tabs(this, $("tabs"));
    this.browser = new WorkflowBrowser(this, $("workflow-panel"));
    this.history = new HistoryPanel(this, $("history-panel"));
    this.viewControls = new ViewControls(this);
    this.settingsStore = new SettingsStore(this, $("settings-panel"));
    this.library = new Library(this); // templates browser, missing-models panel
    exclusivePanels();
    this.extensionHost = new ExtensionHost(this); // plugin web scripts: NodeFlow's hooks and the ComfyUI adapter
    this.state.graph.hooks = this.extensionHost.graphHooks;
    this.subgraphs = new SubgraphUI(this); // convert/open/unpack subgraphs, the library, queue selected outputs
    this.subgraphs.register();
    installImageTools(this); // export menu, batch previews, lightbox, mask editor, image paste (ui/image_tools.js)
  }

  /** Change one setting: applied at once and saved to the user's settings file on the server. */
  setSetting(key, value) {
    this.settings[key] = value;
    this.applySettings();
    this.settingsStore.saveSoon();
    if (!this.settingsStore.element.hidden && !this.settingsStore.element.contains(document.activeElement)) this.settingsStore.render();
  }

  applySettings() {
    this.view.setTheme(this.settings.theme);
    this.view.linkStyle = this.settings.linkStyle;
    this.view.nodeIds = !!this.settings.nodeIds;
    document.body.dataset.theme = this.settings.theme;
    this.viewControls.apply();
  }

  /** A prompt finished (websocket): the history panel shows it. */
  finished() {
    if (this.history.visible) this.history.refresh();
  }

  async start() {
    await this.refreshObjectInfo();
    await this.subgraphs.loadLibrary();
    await this.settingsStore.load();
    await this.extensionHost.load(); // before any graph: extensions see every node created
    if (!this.tabs.restore()) {
      const data = await (await fetch("default_workflow.json")).json();
      if (!(await this.openInNewTab(data, "Unsaved workflow", null, { checkModels: false }))) this.tabs.create();
    }
    this.applySettings();
    bindToolbar(this);
    this.runEvents.bind();
    bindDrop(this);
    window.addEventListener("resize", () => this.view.requestDraw());
    window.addEventListener("pagehide", () => this.tabs.persist()); // an edit made just before a reload is kept
    await this.extensionHost.setup();
    this.extensionHost.showPackProblems();
    this.api.connect();
    this.queuePanel.refresh();
    this.view.requestDraw();
    document.body.dataset.ready = "true";
  }

  async refreshObjectInfo() {
    this.state.objectInfo = { ...(await this.api.objectInfo()), ...EDITOR_NODES };
    this.subgraphs?.restoreLibrary();
  }

  // --- edits ------------------------------------------------------------------------------
  run(command) {
    this.stack.run(command);
    return command;
  }

  undo() { this.stack.undo(); }
  redo() { this.stack.redo(); }

  /** After every edit of `tab` (the active one by default): redraw, dirty marker, keep the session. */
  changed(tab = this.tabs.active) {
    if (tab === this.tabs.active) this.view.requestDraw();
    if (tab) this.extensionHost.changed(tab.graph);
    if (tab) this.tabs.touched(tab);
    if (tab === this.tabs.active) this.autoQueue.graphChanged();
    this.persistSoon(300);
    if (tab && tab.path && this.settings.autosave) { // autosave: write the file a moment after the last edit
      clearTimeout(tab.autosaveTimer);
      tab.autosaveTimer = setTimeout(() => { if (this.tabs.isDirty(tab)) this.browser.save(tab, true); }, 1000);
    }
  }

  viewChanged() {
    this.view.requestDraw();
    this.persistSoon(500);
  }

  persistSoon(ms) {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.tabs.persist(), ms);
  }

  addNodeAt(type, gx, gy, pending = {}) {
    const info = this.state.objectInfo[type];
    const node = this.state.graph.makeNode(type, info, [gx, gy]);
    this.stack.batch(`add ${type}`, () => {
      this.run(addNode(node));
      if (pending.output) {
        const input = node.inputs.find((i) => typesMatch(pending.output.type, i.type));
        if (input) this.run(connect(pending.output.nodeId, pending.output.slot, node.id, input.name));
      } else if (pending.input) {
        const slot = node.outputs.findIndex((o) => typesMatch(o.type, pending.input.type));
        if (slot >= 0) this.run(connect(node.id, slot, pending.input.nodeId, pending.input.input));
      }
      this.suitModel(node); // the same undo step
    });
    this.state.selection = new Set([node.id]);
    this.extensionHost.nodeCreated(node);
    return node;
  }

  /** A node added beside a checkpoint with known good settings (model/model_hints.js) takes them, and says so;
   * a loader added for such a checkpoint sets the nodes already there that are still at their defaults. */
  suitModel(added) {
    const graph = this.state.graph;
    const hint = activeHint(graph);
    if (!hint) return;
    const fresh = (type) => graph.makeNode(type, this.state.objectInfo[type], [0, 0], "fresh").widgets;
    const loaderAdded = activeHint({ nodes: new Map([[added.id, added]]) }) === hint;
    const changes = [];
    for (const node of loaderAdded ? graph.nodes.values() : [added]) {
      if (!hint.nodes[node.type]) continue;
      const values = hintedValues(hint, node, fresh(node.type));
      if (values.length) changes.push([node, values]);
    }
    if (!changes.length) return;
    this.stack.batch(`settings for ${hint.label}`, () => {
      for (const [node, values] of changes) for (const [name, value] of values) this.run(setWidget(node.id, name, value));
    });
    const said = changes.map(([node, values]) => `${this.state.objectInfo[node.type]?.display_name || node.type}: ${values.map(([n, v]) => `${n} ${v}`).join(", ")}`);
    this.toast(`Set for ${hint.label}: ${said.join("; ")} (its node defaults are slow and poor on it)`);
  }

  toggleMode(ids, mode) {
    const nodes = ids.map((id) => this.state.graph.nodes.get(id)).filter(Boolean);
    const all = nodes.every((n) => n.mode === mode);
    this.run(setProperty(ids, "mode", all ? "active" : mode));
  }

  rename(nodeId, clientX, clientY) { this.menus.renameNode(nodeId, clientX, clientY); }
  nodeMenu(node, clientX, clientY) { this.menus.nodeMenu(node, clientX, clientY); }

  fitView() {
    const layouts = [...this.state.graph.nodes.values()].map((n) => this.view.layout(n))
      .concat(this.state.graph.groups.map((g) => ({ x: g.bounding[0], y: g.bounding[1], w: g.bounding[2], h: g.bounding[3] }))); // groups too
    if (!layouts.length) return;
    const x1 = Math.min(...layouts.map((l) => l.x)) - 40;
    const y1 = Math.min(...layouts.map((l) => l.y)) - 40;
    const x2 = Math.max(...layouts.map((l) => l.x + l.w)) + 40;
    const y2 = Math.max(...layouts.map((l) => l.y + l.h)) + 60;
    const { clientWidth, clientHeight } = this.view.canvas;
    const scale = Math.min(2, Math.max(0.1, Math.min(clientWidth / (x2 - x1), clientHeight / (y2 - y1))));
    this.state.graph.viewport = { scale, offset: [-x1 + (clientWidth / scale - (x2 - x1)) / 2, -y1 + (clientHeight / scale - (y2 - y1)) / 2] };
    this.viewChanged();
  }

  // --- overlays ---------------------------------------------------------------------------
  showOverlay(element) {
    element.classList.add("overlay");
    $("overlays").append(element);
  }

  closeOverlays() {
    if (this.state.pendingLink) { this.state.pendingLink = null; this.view.requestDraw(); }
    for (const el of [...$("overlays").children]) {
      if (document.activeElement === el) el.blur();
      el.remove();
    }
  }

  openSearch(clientX, clientY, pending) {
    this.closeOverlays();
    this.state.pendingLink = pending ? pending.output || pending.input || null : null; // drawn while the box is open
    openSearch(this, clientX, clientY, pending);
  }
  libraryMenu(clientX, clientY) {
    this.closeOverlays();
    showMenu(this, clientX, clientY, [...canvasMenuItems(this, clientX, clientY), ...libraryItems(this, clientX, clientY)]);
  }

  toast(message, kind = "info") {
    const el = document.createElement("div");
    el.className = `toast ${kind}`;
    el.textContent = message;
    $("toasts").append(el);
    setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
  }

  // --- workflows --------------------------------------------------------------------------
  setGraph(data, source) {
    this.subgraphs.leave(); // a workflow loads at the top level
    this.extensionHost.beforeLoad(data);
    const { graph, warnings } = Graph.fromJSON(data, this.state.objectInfo, this.customWidgets, this.extensionHost.graphHooks);
    this.run(replaceGraph(graph));
    this.state.graph.viewport = graph.viewport;
    this.state.selection.clear();
    for (const key of ["errors", "images", "previews", "texts", "progress"]) this.state.runtime[key].clear();
    for (const w of warnings) this.toast(`${source}: node ${w.node}: ${w.message}`, "warning");
    this.state.warnings = warnings;
    this.extensionHost.graphLoaded(this.state.graph);
    this.view.requestDraw();
  }

  /** Any workflow (NodeFlow, ComfyUI, API prompt, PNG/WebP) -> NodeFlow JSON, or null with a toast. */
  async toNodeflow(data, source) {
    try {
      const nodeflow = data && data.format === "nodeflow-workflow" ? { result: data, warnings: [] } : await this.api.convert(data);
      for (const w of nodeflow.warnings || []) this.toast(`${source}: ${w.node ? `node ${w.node}: ` : ""}${w.message}`, "warning");
      return nodeflow.result;
    } catch (err) {
      this.toast(`Could not open ${source}: ${err.message}`, "error");
      return null;
    }
  }

  /** Load into the active tab (one undoable step). */
  async loadWorkflow(data, source = "workflow") {
    const result = await this.toNodeflow(data, source);
    if (!result) return false;
    try {
      this.setGraph(result, source);
      this.library.checkModels();
      return true;
    } catch (err) {
      this.toast(`Could not open ${source}: ${err.message}`, "error");
      return false;
    }
  }

  /** Open in a new tab (saved workflows, history runs). Resolves to the tab or null. */
  async openInNewTab(data, name, path = null, { checkModels = true } = {}) {
    const result = await this.toNodeflow(data, name);
    if (!result) return null;
    try {
      const tab = this.tabs.create({ name, path, data: result });
      if (checkModels) this.library.checkModels();
      return tab;
    } catch (err) {
      this.toast(`Could not open ${name}: ${err.message}`, "error");
      return null;
    }
  }

  async loadUrl(url) {
    const data = await (await fetch(url)).json();
    return this.loadWorkflow(data, url);
  }

  exportFile() { return exportAs(this, "nodeflow"); }

  /** A dropped or chosen file: into the active tab when it is empty and unchanged, else a new tab; named after the file. */
  async openFile(file) {
    let data = file;
    if (!(/\.(png|webp)$/i.test(file.name) || file.type.startsWith("image/"))) {
      try { data = JSON.parse(await file.text()); } catch (err) {
        this.toast(`${file.name} is not valid JSON: ${err.message}`, "error");
        return false;
      }
    }
    const name = file.name.replace(/\.(json|png|webp)$/i, "") || "workflow";
    const tab = this.tabs.active;
    if (tab && !tab.graph.nodes.size && !this.tabs.isDirty(tab)) {
      if (!(await this.loadWorkflow(data, file.name))) return false;
      this.tabs.markSaved(tab, tab.path, name); // just opened: named after the file, nothing unsaved
      return true;
    }
    return !!(await this.openInNewTab(data, name));
  }

  // --- running ----------------------------------------------------------------------------
  /** Queue the active tab's workflow `batch` times (the toolbar's count by default); `extra` joins the
   * POST /prompt body (`{front: true}` runs it next, partial_execution_targets). */
  async queue(batch = null, extra = {}) {
    const count = Math.max(1, Math.min(100, Number(batch ?? $("batch-count").value) || 1));
    const runtime = this.state.runtime;
    const tab = this.tabs.active;
    runtime.errors.clear();
    this.errorsPanel.set(tab, []);
    for (let i = 0; i < count; i++) {
      let prompt;
      let workflow;
      try {
        ({ output: prompt, workflow } = await this.extensionHost.comfy.graphToPrompt()); // extensions may wrap it
      } catch (err) {
        this.toast(`Could not build the prompt: ${err.message}`, "error");
        return;
      }
      try {
        const result = await this.api.queuePrompt(prompt, workflow, extra);
        this.runEvents.queued(result.prompt_id, tab, Object.keys(prompt).length);
        this.queueStatus.queued(result.prompt_id, tab);
        // (a fast run's own errors may already be listed: only add the ones validation found)
        if (Object.keys(result.node_errors || {}).length) this.showNodeErrors(result.node_errors);
      } catch (err) {
        const body = err.body || {};
        const error = body.error || (body.node_errors && Object.keys(body.node_errors).length ? null : { message: this.queueStatus.failed(err) });
        this.showNodeErrors(body.node_errors || {}, error);
        this.view.requestDraw();
        return;
      }
      const specOf = (type, name, node) => (inputSpecs(effectiveInfo(this.state.graph, node, this.state.objectInfo) || {})
        .find((s) => s.name === name) || {}).spec;
      if (applyControls(this.state.graph, specOf).length) this.changed();
    }
    this.queuePanel.refresh();
  }

  /** NodeFlow's extension hooks (docs/plugins.md); ComfyUI-style scripts use /scripts/app.js instead. */
  registerExtension(extension) { this.extensionHost.register(extension); }

  showNodeErrors(nodeErrors, promptError = null) {
    const list = [];
    for (const [id, entry] of Object.entries(nodeErrors)) {
      const message = entry.errors.map((e) => `${e.message}${e.details ? `: ${e.details}` : ""}`).join("; ");
      this.state.runtime.errors.set(id, message);
      const node = this.state.graph.nodes.get(id);
      const info = this.state.objectInfo[node ? node.type : entry.class_type] || {};
      list.push({ node: id, title: (node && node.title) || info.display_name || entry.class_type, message });
    }
    if (promptError && !list.length) list.push({ node: null, message: promptError.message + (promptError.details ? `: ${promptError.details}` : "") });
    this.errorsPanel.set(this.tabs.active, list);
    this.view.requestDraw();
  }
}

const app = new App();
window.nodeflow = {
  app, get graph() { return app.state.graph; }, view: app.view,
  registerExtension: (extension) => app.extensionHost.register(extension),
  /** Plugin problems seen by the editor: scripts that failed to load, hooks that threw, packs that failed. */
  get extensionProblems() { return app.extensionHost.problems.map((p) => ({ ...p })); },
  /** Screen position of a slot, for tests and extensions: side "in" (input name) or "out" (slot). */
  slotPosition(nodeId, side, key) {
    app.view.layout(app.state.graph.nodes.get(String(nodeId)));
    const point = app.view.slotPoint(String(nodeId), side, key);
    return point ? app.view.toScreen(point[0], point[1]) : null;
  },
  /** Screen rectangle of a node (title bar included). */
  nodeRect(nodeId) {
    const layout = app.view.layout(app.state.graph.nodes.get(String(nodeId)));
    const [x, y] = app.view.toScreen(layout.x, layout.y);
    const scale = app.state.graph.viewport.scale;
    return { x, y, w: layout.w * scale, h: layout.h * scale };
  },
  /** The image URLs a node shows (run outputs, or Load Image's file): render/node_images.js. */
  nodeImages(nodeId) {
    const node = app.state.graph.nodes.get(String(nodeId));
    return (node && nodeImages(app.state, node, effectiveInfo(app.state.graph, node, app.state.objectInfo))) || [];
  },
  widgetPosition(nodeId, name) {
    const layout = app.view.layout(app.state.graph.nodes.get(String(nodeId)));
    const row = layout.widgets.find((w) => w.name === name && !w.control && !w.upload);
    return row ? app.view.toScreen(row.x + row.w / 2, row.y + row.h / 2) : null;
  },
};
app.start().catch((err) => {
  document.body.dataset.ready = "error";
  app.toast(`NodeFlow could not start: ${err.message}`, "error");
});

// The editor application: wires the model, the renderer, the interaction layer and the API.
import { ApiClient } from "./api/client.js";
import { CommandStack, addNode, connect, replaceGraph, setProperty } from "./model/commands.js";
import { EDITOR_NODES, effectiveInfo } from "./model/editor_nodes.js";
import { Graph } from "./model/graph.js";
import { applyControls, buildPrompt } from "./model/prompt.js";
import { inputSpecs, typesMatch } from "./model/types.js";
import { CanvasView } from "./render/canvas.js";
import { ActionRegistry } from "./ui/actions.js";
import { ClipboardActions } from "./ui/clipboard.js";
import { ContextMenus } from "./ui/context_menus.js";
import { registerEditorActions } from "./ui/editor_actions.js";
import { Interaction } from "./ui/interaction.js";
import { libraryItems, showMenu } from "./ui/menu.js";
import { QueuePanel, showErrors } from "./ui/queue_panel.js";
import { openSearch } from "./ui/search_box.js";
import { WidgetEditor } from "./ui/widgets.js";

const AUTOSAVE_KEY = "nodeflow.workflow";
const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.api = new ApiClient("");
    this.extensions = [];
    this.state = {
      graph: new Graph(), objectInfo: {}, selection: new Set(), drag: null,
      runtime: { executing: null, progress: new Map(), errors: new Map(), images: new Map(), previews: new Map(), texts: new Map() },
    };
    this.stack = new CommandStack(this.state.graph, () => this.changed());
    this.view = new CanvasView($("canvas"), this.state);
    this.widgets = new WidgetEditor(this);
    this.interaction = new Interaction(this);
    this.clipboard = new ClipboardActions(this);
    this.menus = new ContextMenus(this);
    this.actions = new ActionRegistry();
    registerEditorActions(this);
    this.queuePanel = new QueuePanel(this, $("queue-panel"));
    this.promptNodes = new Map(); // prompt_id -> node count, for the overall progress bar
  }

  async start() {
    await this.refreshObjectInfo();
    const restored = await this.restore();
    if (!restored) await this.loadUrl("default_workflow.json");
    this.bindToolbar();
    this.bindSocket();
    this.bindDrop();
    window.addEventListener("resize", () => this.view.requestDraw());
    await this.loadExtensions();
    this.showPluginProblems();
    this.api.connect();
    this.queuePanel.refresh();
    this.view.requestDraw();
    document.body.dataset.ready = "true";
  }

  async refreshObjectInfo() {
    this.state.objectInfo = { ...(await this.api.objectInfo()), ...EDITOR_NODES };
  }

  // --- edits ------------------------------------------------------------------------------
  run(command) {
    this.stack.run(command);
    return command;
  }

  undo() { this.stack.undo(); }
  redo() { this.stack.redo(); }

  changed() {
    this.view.requestDraw();
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.autosave(), 300);
  }

  viewChanged() {
    this.view.requestDraw();
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.autosave(), 500);
  }

  autosave() {
    try { localStorage.setItem(AUTOSAVE_KEY, JSON.stringify(this.state.graph.toJSON())); } catch { /* storage full */ }
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
    });
    this.state.selection = new Set([node.id]);
    for (const ext of this.extensions) ext.nodeCreated?.(node, this);
    return node;
  }

  toggleMode(ids, mode) {
    const nodes = ids.map((id) => this.state.graph.nodes.get(id)).filter(Boolean);
    const all = nodes.every((n) => n.mode === mode);
    this.run(setProperty(ids, "mode", all ? "active" : mode));
  }

  rename(nodeId, clientX, clientY) { this.menus.renameNode(nodeId, clientX, clientY); }
  nodeMenu(node, clientX, clientY) { this.menus.nodeMenu(node, clientX, clientY); }

  fitView() {
    const layouts = [...this.state.graph.nodes.values()].map((n) => this.view.layout(n));
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
    for (const el of [...$("overlays").children]) {
      if (document.activeElement === el) el.blur();
      el.remove();
    }
  }

  openSearch(clientX, clientY, pending) { this.closeOverlays(); openSearch(this, clientX, clientY, pending); }
  libraryMenu(clientX, clientY) { this.closeOverlays(); showMenu(this, clientX, clientY, libraryItems(this, clientX, clientY)); }

  toast(message, kind = "info") {
    const el = document.createElement("div");
    el.className = `toast ${kind}`;
    el.textContent = message;
    $("toasts").append(el);
    setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
  }

  // --- workflows --------------------------------------------------------------------------
  setGraph(data, source) {
    const { graph, warnings } = Graph.fromJSON(data, this.state.objectInfo, this.state.graph.customWidgets);
    this.run(replaceGraph(graph));
    this.state.graph.viewport = graph.viewport;
    this.state.selection.clear();
    for (const key of ["errors", "images", "previews", "texts", "progress"]) this.state.runtime[key].clear();
    for (const w of warnings) this.toast(`${source}: node ${w.node}: ${w.message}`, "warning");
    this.state.warnings = warnings;
    this.view.requestDraw();
  }

  async loadWorkflow(data, source = "workflow") {
    try {
      const nodeflow = data && data.format === "nodeflow-workflow" ? { result: data, warnings: [] } : await this.api.convert(data);
      for (const w of nodeflow.warnings || []) this.toast(`${source}: ${w.node ? `node ${w.node}: ` : ""}${w.message}`, "warning");
      this.setGraph(nodeflow.result, source);
      return true;
    } catch (err) {
      this.toast(`Could not open ${source}: ${err.message}`, "error");
      return false;
    }
  }

  async loadUrl(url) {
    const data = await (await fetch(url)).json();
    return this.loadWorkflow(data, url);
  }

  async restore() {
    const saved = localStorage.getItem(AUTOSAVE_KEY);
    if (!saved) return false;
    try { this.setGraph(JSON.parse(saved), "autosave"); return true; } catch { return false; }
  }

  save() {
    const blob = new Blob([JSON.stringify(this.state.graph.toJSON(), null, 2)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "workflow.json";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  async openFile(file) {
    if (/\.(png|webp)$/i.test(file.name) || file.type.startsWith("image/")) return this.loadWorkflow(file, file.name);
    try {
      return this.loadWorkflow(JSON.parse(await file.text()), file.name);
    } catch (err) {
      this.toast(`${file.name} is not valid JSON: ${err.message}`, "error");
      return false;
    }
  }

  // --- running ----------------------------------------------------------------------------
  async queue() {
    const count = Math.max(1, Math.min(100, Number($("batch-count").value) || 1));
    const runtime = this.state.runtime;
    runtime.errors.clear();
    showErrors($("error-panel"), []);
    for (let i = 0; i < count; i++) {
      const prompt = buildPrompt(this.state.graph);
      try {
        const result = await this.api.queuePrompt(prompt, this.state.graph.toJSON());
        this.promptNodes.set(result.prompt_id, Object.keys(prompt).length);
        this.showNodeErrors(result.node_errors || {});
      } catch (err) {
        const body = err.body || {};
        this.showNodeErrors(body.node_errors || {}, body.error);
        this.view.requestDraw();
        return;
      }
      const specOf = (type, name, node) => (inputSpecs(effectiveInfo(this.state.graph, node, this.state.objectInfo) || {})
        .find((s) => s.name === name) || {}).spec;
      if (applyControls(this.state.graph, specOf).length) this.changed();
    }
    this.queuePanel.refresh();
  }

  showNodeErrors(nodeErrors, promptError = null) {
    const list = [];
    for (const [id, entry] of Object.entries(nodeErrors)) {
      const message = entry.errors.map((e) => `${e.message}${e.details ? `: ${e.details}` : ""}`).join("; ");
      this.state.runtime.errors.set(id, message);
      const node = this.state.graph.nodes.get(id);
      list.push({ node: id, title: node ? node.title || node.type : entry.class_type, message });
    }
    if (promptError && !list.length) list.push({ node: null, message: promptError.message + (promptError.details ? `: ${promptError.details}` : "") });
    showErrors($("error-panel"), list);
    this.view.requestDraw();
  }

  bindSocket() {
    const runtime = this.state.runtime;
    const on = (type, handler) => this.api.addEventListener(type, (e) => { handler(e.detail); this.view.requestDraw(); });
    on("connected", () => { $("status").textContent = "connected"; $("status").className = "ok"; });
    on("disconnected", () => { $("status").textContent = "reconnecting…"; $("status").className = "bad"; });
    on("ws:status", () => this.queuePanel.refresh());
    on("ws:execution_start", (d) => { this.running = { id: d.prompt_id, done: 0 }; runtime.previews.clear(); this.overall(0); });
    on("ws:execution_cached", (d) => { if (this.running) this.running.done += d.nodes.length; this.overall(); });
    on("ws:executing", (d) => {
      if (runtime.executing) { runtime.progress.delete(runtime.executing); if (this.running) this.running.done += 1; }
      runtime.executing = d.node;
      if (d.node === null) { this.running = null; this.overall(null); this.queuePanel.refresh(); } else this.overall();
    });
    on("ws:progress", (d) => runtime.progress.set(String(d.node), { value: d.value, max: d.max }));
    on("ws:executed", (d) => {
      const node = this.state.graph.nodes.get(String(d.node));
      const output = d.output || {};
      if (output.images) runtime.images.set(String(d.node), output.images.map((img) => this.api.viewUrl(img)));
      if (output.text) runtime.texts.set(String(d.node), output.text.join("\n"));
      for (const ext of this.extensions) if (node) ext.executed?.(node, output, this);
    });
    on("ws:execution_error", (d) => {
      const id = String(d.node_id);
      runtime.errors.set(id, `${d.exception_type}: ${d.exception_message}`);
      const node = this.state.graph.nodes.get(id);
      showErrors($("error-panel"), [{ node: id, title: node ? node.title || node.type : d.node_type, message: `${d.exception_type}: ${d.exception_message}` }]);
    });
    on("ws:execution_interrupted", () => this.toast("Interrupted", "warning"));
    on("preview", async (blob) => {
      if (!runtime.executing) return;
      const bitmap = await createImageBitmap(blob);
      runtime.previews.set(runtime.executing, bitmap);
      this.view.requestDraw();
    });
    on("text", (d) => runtime.texts.set(d.node, (runtime.texts.get(d.node) || "") + d.text));
  }

  overall(value) {
    const bar = $("overall-progress");
    if (value === null) { bar.style.width = "0"; return; }
    const total = this.running ? this.promptNodes.get(this.running.id) || 1 : 1;
    const done = this.running ? this.running.done : 0;
    bar.style.width = `${Math.min(100, (100 * done) / total)}%`;
  }

  bindToolbar() {
    $("queue-button").addEventListener("click", () => this.queue());
    $("interrupt-button").addEventListener("click", () => this.api.interrupt());
    $("save-button").addEventListener("click", () => this.save());
    $("open-button").addEventListener("click", () => $("open-file").click());
    $("open-file").addEventListener("change", (e) => { if (e.target.files[0]) this.openFile(e.target.files[0]); e.target.value = ""; });
    $("fit-button").addEventListener("click", () => this.fitView());
    $("queue-toggle").addEventListener("click", () => { $("queue-panel").hidden = !$("queue-panel").hidden; this.queuePanel.refresh(); });
    $("clear-queue").addEventListener("click", async () => { await this.api.clearQueue(); this.queuePanel.refresh(); });
    $("lightbox").addEventListener("click", () => { $("lightbox").hidden = true; });
    this.view.canvas.addEventListener("click", (e) => {
      const [x, y] = this.view.toGraph(e.clientX, e.clientY);
      const hit = this.interaction.hit(x, y);
      const urls = hit && this.state.runtime.images.get(hit.node.id);
      const layout = hit && this.view.layouts.get(hit.node.id);
      if (urls && layout && layout.image && y > layout.image.y && e.detail === 1 && !e.shiftKey) {
        $("lightbox-image").src = urls[urls.length - 1];
        $("lightbox").hidden = false;
      }
    });
  }

  bindDrop() {
    const canvas = this.view.canvas;
    canvas.addEventListener("dragover", (e) => e.preventDefault());
    canvas.addEventListener("drop", async (e) => {
      e.preventDefault();
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (!file) return;
      const [x, y] = this.view.toGraph(e.clientX, e.clientY);
      const hit = this.interaction.hit(x, y);
      const upload = hit && this.view.layouts.get(hit.node.id)?.widgets.find((w) => w.upload);
      if (upload && file.type.startsWith("image/")) return this.widgets.upload(hit.node.id, upload.name, file);
      return this.openFile(file);
    });
  }

  // --- extensions (plugin web scripts; hook API in docs/plugins.md) --------------------------
  registerExtension(extension) {
    this.extensions.push(extension);
    for (const [type, factory] of Object.entries(extension.widgets || {})) this.state.graph.customWidgets.set(type, factory);
    try { extension.setup?.(this); } catch (err) { console.error(`extension ${extension.name} failed`, err); }
  }

  async loadExtensions() {
    let scripts = [];
    try { scripts = await this.api.extensions(); } catch { return; }
    for (const url of scripts) {
      try { await import(url); } catch (err) { this.toast(`Extension ${url} failed to load: ${err.message}`, "error"); }
    }
    for (const ext of window.nodeflowPendingExtensions || []) this.registerExtension(ext);
    window.nodeflowPendingExtensions = [];
  }

  async showPluginProblems() {
    let packs = [];
    try { packs = await this.api.json("/nodeflow/plugins"); } catch { return; }
    this.plugins = packs;
    for (const pack of packs) {
      if (!pack.ok) this.toast(`Plugin ${pack.name} did not load: ${String(pack.error).split("\n")[0]}`, "error");
      for (const clash of pack.clashes || []) this.toast(`Plugin ${pack.name}: ${clash}`, "warning");
    }
  }
}

const app = new App();
window.nodeflow = {
  app, get graph() { return app.state.graph; }, view: app.view,
  registerExtension: (extension) => app.registerExtension(extension),
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

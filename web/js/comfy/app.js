// `app` as ComfyUI extensions see it (ComfyUI's scripts/app.js), mapped onto NodeFlow's editor.
// registerExtension runs ComfyUI's hooks in ComfyUI's order: init, addCustomNodeDefs,
// getCustomWidgets, beforeRegisterNodeDef (per node type), registerCustomNodes; then, for every
// graph loaded, beforeConfigureGraph, nodeCreated + onNodeCreated (per node), loadedGraphNode,
// afterConfigureGraph; setup once the editor is ready. Every hook call is guarded: a throw is
// reported (ExtensionHost) and the editor and other extensions go on.
import { EDITOR_NODES } from "../model/editor_nodes.js";
import { buildPrompt } from "../model/prompt.js";
import { ComfyApi } from "./api.js";
import { DomLayer } from "./dom.js";
import { ChangeWatcher, GraphAdapter } from "./graph.js";
import { addInputWidgets, makeNodeType } from "./node.js";
import { $el, ComfyDialog, ComfySettings, addStylesheet, getStorageValue, setStorageValue, toastApi } from "./ui.js";
import { ComfyWidgets, addValueControlWidget, addValueControlWidgets } from "./widgets.js";

export class ComfyApp {
  constructor(editor, host) {
    this.editor = editor;
    this.host = host;
    this.extensions = [];
    this.nodeDefs = {};
    this.nodeTypes = new Map();     // class_type -> the class extensions patch
    this.customWidgets = new Map(); // input type -> widget factory (getCustomWidgets)
    this.nodeOutputs = {};
    this.adapters = new WeakMap();  // NodeFlow node -> ComfyNode
    this.graphs = new WeakMap();    // NodeFlow graph -> GraphAdapter
    this.registered = false;        // node types registered (later extensions run their hooks at once)
    this.ready = false;             // setup done
    this.api = new ComfyApi(editor.api, host);
    this.settings = new ComfySettings(editor, host);
    this.dom = new DomLayer(editor);
    this.watcher = new ChangeWatcher(this);
    this.ui = { settings: this.settings, dialog: null, menuContainer: null };
    this.extensionManager = { toast: toastApi(editor), setting: this.settings,
      registerSidebarTab: () => { throw new Error("sidebar tabs are not supported by NodeFlow"); } };
    const view = editor.view;
    if (view) {
      view.overlayers.push(() => this.dom.position()); // after each frame and each edit, like the prompt boxes
    }
    if (typeof window !== "undefined") {
      Object.defineProperty(this.ui, "dialog", { get: () => (this._dialog ||= new ComfyDialog()) });
      window.comfyAPI = exposed(this);
    }
  }

  get graph() { return this.graphAdapter(this.editor.state.graph); }
  get canvasEl() { return this.editor.view?.canvas; }

  get canvas() {
    const editor = this.editor;
    const app = this;
    return {
      canvas: editor.view?.canvas, get graph() { return app.graph; },
      get ds() { const v = editor.state.graph.viewport; return { scale: v.scale, offset: v.offset }; },
      get selected_nodes() { return Object.fromEntries([...editor.state.selection].map((id) => [id, app.graph.getNodeById(id)])); },
      setDirty: () => app.redraw(), draw: () => app.redraw(),
    };
  }

  // --- extensions -------------------------------------------------------------------------
  registerExtension(extension) {
    if (!extension || typeof extension !== "object") throw new Error("registerExtension needs an extension object");
    if (!extension.name) throw new Error("an extension needs a name");
    if (this.extensions.some((e) => e.name === extension.name)) {
      this.host.report({ extension: extension.name, message: `an extension named ${extension.name} is already registered; this one is skipped` });
      return;
    }
    Object.defineProperty(extension, "__script", { value: this.host.loadingScript, enumerable: false, configurable: true });
    this.extensions.push(extension);
    for (const setting of Array.isArray(extension.settings) ? extension.settings : []) {
      this.host.guard(this.where(extension, "settings"), () => this.settings.addSetting(setting));
    }
    if (this.registered) this.lateRegister(extension); // a script that registered after the editor started
  }

  where(ext, hook) { return { source: ext.__script, extension: ext.name, hook }; }

  /** Call `hook` on every extension (synchronously; a returned promise's rejection is reported). */
  each(hook, ...args) {
    for (const ext of [...this.extensions]) if (typeof ext[hook] === "function") this.host.guard(this.where(ext, hook), () => ext[hook](...args, this));
  }

  async eachAsync(hook, ...args) {
    for (const ext of [...this.extensions]) await this.runHook(ext, hook, ...args);
  }

  runHook(ext, hook, ...args) {
    if (typeof ext[hook] !== "function") return undefined;
    return this.host.guardAsync(this.where(ext, hook), () => ext[hook](...args, this));
  }

  /** The node types as classes extensions can patch; the start-up hooks before any node exists. */
  async registerNodeDefs(objectInfo, only = null) {
    const extensions = only ? [only] : this.extensions;
    const defs = {};
    for (const [name, def] of Object.entries(objectInfo)) if (!EDITOR_NODES[name]) defs[name] = { ...def, name };
    this.nodeDefs = defs;
    this.registered = true; // from here on, a newly registered extension runs these hooks itself
    if (!extensions.length) return;
    for (const ext of extensions) await this.runHook(ext, "init");
    for (const ext of extensions) await this.runHook(ext, "addCustomNodeDefs", defs);
    for (const ext of extensions) {
      const widgets = await this.runHook(ext, "getCustomWidgets");
      for (const [type, factory] of Object.entries(widgets && typeof widgets === "object" ? widgets : {})) {
        if (typeof factory !== "function") continue;
        this.customWidgets.set(type, { factory, ext });
        this.editor.customWidgets.set(type, { comfy: true }); // an input of this type is a widget, not a socket
      }
    }
    for (const [name, def] of Object.entries(defs)) {
      if (!this.nodeTypes.has(name)) this.nodeTypes.set(name, makeNodeType(name, def));
      for (const ext of extensions) if (typeof ext.beforeRegisterNodeDef === "function") await this.runHook(ext, "beforeRegisterNodeDef", this.nodeTypes.get(name), def);
    }
    for (const ext of extensions) await this.runHook(ext, "registerCustomNodes");
  }

  async setup() {
    await this.eachAsync("setup");
    this.ready = true;
  }

  async lateRegister(ext) {
    await this.registerNodeDefs(this.editor.state.objectInfo, ext);
    if (this.ready) await this.runHook(ext, "setup");
  }

  // --- nodes ------------------------------------------------------------------------------
  infoOf(type) { return this.editor.state.objectInfo[type] || null; }

  typeOf(model) {
    if (!this.nodeTypes.has(model.type)) this.nodeTypes.set(model.type, makeNodeType(model.type, { ...(this.infoOf(model.type) || {}), name: model.type }));
    return this.nodeTypes.get(model.type);
  }

  /** The ComfyNode of a NodeFlow node, made on first use (editor-only nodes get one without widgets). */
  nodeFor(model, info = undefined) {
    if (!model) return null;
    let node = this.adapters.get(model);
    if (node) return node;
    const Type = this.typeOf(model);
    node = new Type(model, this);
    this.adapters.set(model, node);
    info = info === undefined ? this.infoOf(model.type) : info;
    if (info && !info.editor) {
      addInputWidgets(node, info, this.customWidgets, this.editor.customWidgets, (type, n, name, spec) => {
        const { factory, ext } = this.customWidgets.get(type);
        this.host.guard(this.where(ext, `getCustomWidgets ${type}`), () => factory(n, name, spec, this));
      });
      model.extraWidgets = node.widgets; // the renderer draws these rows (render/layout.js)
    }
    return node;
  }

  /** Graph hook: a NodeFlow node was just made (added, pasted, loaded), before saved values are restored. */
  nodeMade(model, info) {
    if (!this.extensions.length || !info || info.editor) return;
    const node = this.nodeFor(model, info);
    node._applyDefaults();
    this.each("nodeCreated", node);
    if (typeof node.onNodeCreated === "function") this.host.guard({ extension: `node ${model.type}`, hook: "onNodeCreated" }, () => node.onNodeCreated());
  }

  graphOf(model) {
    const active = this.editor.state.graph;
    if (active.nodes.get(model.id) === model) return active;
    for (const tab of this.editor.tabs?.tabs || []) if (tab.graph.nodes.get(model.id) === model) return tab.graph;
    return null;
  }

  graphAdapter(graph) {
    let adapter = this.graphs.get(graph);
    if (!adapter) this.graphs.set(graph, (adapter = new GraphAdapter(this, graph)));
    return adapter;
  }

  graphAdapterOf(model) { const graph = this.graphOf(model); return graph ? this.graphAdapter(graph) : null; }

  /** An extension changed a node: redraw, and mark the workflow changed when it is the open one. */
  touch(model) {
    if (this.editor.state.graph.nodes.get(model.id) === model && this.editor.tabs?.active) this.editor.changed();
    else this.redraw();
  }

  redraw() { this.editor.view?.requestDraw?.(); }

  // --- what the editor reports ------------------------------------------------------------
  sync(graph) { if (this.extensions.length) this.watcher.sync(graph); }

  beforeLoad(data) { if (this.extensions.length) this.each("beforeConfigureGraph", data, []); }

  graphLoaded(graph) {
    if (!this.extensions.length) return;
    this.watcher.sync(graph);
    const missing = [];
    for (const model of graph.nodes.values()) {
      const info = this.infoOf(model.type);
      if (!info) { missing.push(model.type); continue; }
      if (info.editor) continue;
      const node = this.nodeFor(model);
      if (typeof node.onConfigure === "function") this.host.guard({ extension: `node ${model.type}`, hook: "onConfigure" }, () => node.onConfigure(node.serialize()));
      this.each("loadedGraphNode", node);
    }
    this.each("afterConfigureGraph", missing);
  }

  /** Graph hook before saving: element widgets write their value into the node. */
  saving(graph) {
    if (!this.extensions.length) return;
    for (const model of graph.nodes.values()) for (const w of this.adapters.get(model)?.widgets || []) if (w.pull) w.pull();
  }

  executed(model, output) {
    this.nodeOutputs[model.id] = output;
    if (!this.extensions.length) return;
    const node = this.nodeFor(model);
    if (typeof node.onExecuted === "function") this.host.guard({ extension: `node ${model.type}`, hook: "onExecuted" }, () => node.onExecuted(output));
  }

  widgetChanged(nodeId, name, value) {
    if (!this.extensions.length) return;
    const model = this.editor.state.graph.nodes.get(nodeId);
    const node = model && this.adapters.get(model);
    const widget = node && node.widgets.find((w) => w.name === name && w.type !== "button");
    if (!widget) return;
    const where = { extension: `node ${model.type}`, hook: `widget ${name} callback` };
    if (typeof widget.callback === "function") this.host.guard(where, () => widget.callback(value, this.canvas, node, [0, 0], undefined));
    if (typeof node.onWidgetChanged === "function") this.host.guard({ ...where, hook: "onWidgetChanged" }, () => node.onWidgetChanged(name, value, undefined, widget));
  }

  /** Entries for a node's context menu: getExtraMenuOptions on the node, getNodeMenuItems on extensions. */
  menuItems(model) {
    if (!this.extensions.length || !this.infoOf(model.type) || this.infoOf(model.type).editor) return [];
    const node = this.nodeFor(model);
    const options = [];
    if (typeof node.getExtraMenuOptions === "function") this.host.guard({ extension: `node ${model.type}`, hook: "getExtraMenuOptions" }, () => node.getExtraMenuOptions(this.canvas, options));
    for (const ext of this.extensions) {
      if (typeof ext.getNodeMenuItems !== "function") continue;
      const items = this.host.guard(this.where(ext, "getNodeMenuItems"), () => ext.getNodeMenuItems(node));
      if (Array.isArray(items)) options.push(...items);
    }
    return menuEntries(options, node, this.host);
  }

  // --- running ----------------------------------------------------------------------------
  /** {output: API prompt, workflow}; NodeFlow queues through this, so extensions may wrap it. */
  async graphToPrompt(graph = this.editor.subgraphs ? this.editor.subgraphs.root() : this.editor.state.graph) {
    this.saving(graph);
    const subgraphs = this.editor.subgraphs;
    const workflow = subgraphs && graph === subgraphs.root() ? subgraphs.workflow() : graph.toJSON(); // edits in an opened subgraph count
    // subgraphs are flattened by the server's converter (ComfyUI's "outer:inner" ids), the one implementation
    const output = workflow.nodes.some((n) => (workflow.subgraphs || []).some((d) => d.id === n.type))
      ? (await this.editor.api.post("/nodeflow/convert", { workflow, to: "api" })).result : buildPrompt(graph, this.editor.state.objectInfo);
    for (const model of this.extensions.length ? graph.nodes.values() : []) {
      const node = this.adapters.get(model);
      if (!node || !output[model.id]) continue;
      for (const [index, widget] of node.widgets.entries()) {
        if (typeof widget.serializeValue !== "function" || widget.inPrompt === false) continue;
        const value = await this.host.guardAsync({ extension: `node ${model.type}`, hook: `widget ${widget.name}.serializeValue` }, () => widget.serializeValue(node, index));
        if (value !== undefined) output[model.id].inputs[widget.name] = value;
      }
    }
    return { output, workflow };
  }

  async queuePrompt(_number, batchCount = 1) { await this.editor.queue(batchCount); return true; }
  async loadGraphData(data) { return this.editor.loadWorkflow(data, "extension"); }
  getPreviewFormatParam() { return ""; }
  getRandParam() { return `&rand=${Math.random()}`; }
  refreshComboInNodes() { return this.editor.refreshObjectInfo(); }
}

/** LiteGraph menu options ({content, callback, submenu: {options}}, null = separator) -> NodeFlow's. */
export function menuEntries(options, node, host) {
  const entries = [];
  for (const option of options) {
    if (!option || !option.content || option.disabled) continue;
    const label = String(option.content).replace(/<[^>]*>/g, "");
    const sub = option.submenu && Array.isArray(option.submenu.options) ? menuEntries(option.submenu.options, node, host) : null;
    if (sub) entries.push({ label, children: sub });
    else entries.push({ label, run: () => host.guard({ extension: `node ${node.type}`, hook: `menu "${label}"` }, () => option.callback?.(option, {}, undefined, undefined, node)) });
  }
  return entries;
}

/** window.comfyAPI: what the /scripts/*.js modules hand to extensions. */
function exposed(app) {
  return {
    app: { app, ComfyApp, ANIM_PREVIEW_WIDGET: "$$comfy_animation_preview" },
    api: { api: app.api, ComfyApi: app.api.constructor },
    widgets: { ComfyWidgets, addValueControlWidget, addValueControlWidgets },
    ui: { $el, ComfyDialog },
    utils: { addStylesheet, getStorageValue, setStorageValue },
  };
}

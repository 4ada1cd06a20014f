// Plugin web scripts. Loads every script GET /extensions lists (each import guarded and timed out),
// hosts NodeFlow's own hook API (window.nodeflow.registerExtension, docs/plugins.md) and the ComfyUI
// frontend adapter (web/js/comfy/), and keeps the list of problems: scripts that failed to load,
// hooks that threw, packs whose Python failed. A problem is shown once as a toast and stays listed
// behind the toolbar's problem button; the editor and the other extensions go on.
import { ComfyApp } from "../comfy/app.js";

const IMPORT_TIMEOUT_MS = 15000;
const $ = (id) => document.getElementById(id);

/** `promise`, or a rejection after `ms` (a hung import or hook must not stop the editor). */
export function withTimeout(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class ExtensionHost {
  constructor(app) {
    this.app = app;
    this.extensions = app.extensions; // NodeFlow-style extensions
    this.problems = [];               // [{source, extension, hook, message, count}]
    this.started = false;
    this.loadingScript = null;        // the script being imported (extensions it registers name it)
    this.comfy = new ComfyApp(app, this);
    this.graphHooks = {
      made: (node, info) => this.comfy.nodeMade(node, info),
      saving: (graph) => this.comfy.saving(graph),
    };
  }

  // --- problems ---------------------------------------------------------------------------
  /** Record a problem; the same one again only counts up. `error` may be anything thrown. */
  report({ source = this.loadingScript, extension = null, hook = null, error = null, message = null }) {
    const text = message || (error && error.message) || String(error);
    const key = `${source}\u0000${extension}\u0000${hook}\u0000${text}`;
    const known = this.problems.find((p) => p.key === key);
    if (known) { known.count += 1; return known; }
    const problem = { key, source, extension, hook, message: text, count: 1, stack: error && error.stack ? String(error.stack).split("\n").slice(0, 4).join("\n") : null };
    this.problems.push(problem);
    console.error(`NodeFlow plugin problem: ${describe(problem)}`, error || "");
    if (typeof document !== "undefined") {
      this.app.toast(describe(problem), "error");
      this.renderBadge();
    }
    return problem;
  }

  /** Run `fn`; a throw (or a rejected promise it returns) is reported, never passed on. */
  guard(where, fn) {
    try {
      const result = fn();
      if (result && typeof result.then === "function") return result.then(undefined, (error) => { this.report({ ...where, error }); });
      return result;
    } catch (error) {
      this.report({ ...where, error });
      return undefined;
    }
  }

  /** Await `fn()` with a time limit; failures reported. */
  async guardAsync(where, fn, ms = IMPORT_TIMEOUT_MS) {
    try {
      const result = fn();
      return result && typeof result.then === "function" ? await withTimeout(result, ms, `${where.extension}.${where.hook}`) : result;
    } catch (error) {
      this.report({ ...where, error });
      return undefined;
    }
  }

  renderBadge() {
    const badge = $("plugin-problems");
    if (!badge) return;
    badge.hidden = !this.problems.length;
    badge.textContent = `⚠ ${this.problems.length} plugin problem${this.problems.length === 1 ? "" : "s"}`;
    if (!$("problems-panel").hidden) this.renderPanel();
  }

  renderPanel() {
    const list = $("problems-panel").querySelector("ul");
    list.replaceChildren(...this.problems.map((p) => {
      const item = document.createElement("li");
      const where = document.createElement("b");
      where.textContent = p.source || "(unknown script)";
      const text = document.createElement("span");
      text.textContent = ` ${p.extension ? `${p.extension}${p.hook ? `.${p.hook}` : ""}: ` : ""}${p.message}${p.count > 1 ? ` (×${p.count})` : ""}`;
      if (p.stack) item.title = p.stack;
      item.append(where, text);
      return item;
    }));
  }

  togglePanel() {
    const panel = $("problems-panel");
    panel.hidden = !panel.hidden;
    if (!panel.hidden) this.renderPanel();
  }

  /** Python packs that failed to import or clashed (GET /nodeflow/plugins) join the list. */
  async showPackProblems() {
    let packs = [];
    try { packs = await this.app.api.json("/nodeflow/plugins"); } catch { return; }
    this.app.plugins = packs;
    for (const pack of packs) {
      if (!pack.ok) this.report({ source: `pack ${pack.name}`, message: `did not load: ${String(pack.error).split("\n")[0]}` });
      for (const clash of pack.clashes || []) this.app.toast(`Plugin ${pack.name}: ${clash}`, "warning");
    }
  }

  // --- loading ----------------------------------------------------------------------------
  async load() {
    $("plugin-problems")?.addEventListener("click", () => this.togglePanel());
    let scripts = [];
    try { scripts = await this.app.api.extensions(); } catch (error) { this.report({ source: "/extensions", error }); }
    if (scripts.length) await this.comfy.settings.load();
    for (const url of scripts) {
      this.loadingScript = url;
      try {
        await withTimeout(import(url), IMPORT_TIMEOUT_MS, `loading ${url}`);
      } catch (error) {
        this.report({ source: url, message: `failed to load: ${error && error.message ? error.message : error}`, error });
      }
    }
    this.loadingScript = null;
    for (const ext of window.nodeflowPendingExtensions || []) this.register(ext);
    window.nodeflowPendingExtensions = [];
    await this.comfy.registerNodeDefs(this.app.state.objectInfo);
  }

  /** Once the editor is ready: NodeFlow `setup(app)` hooks, then ComfyUI `setup(app)`. */
  async setup() {
    this.started = true;
    for (const ext of this.extensions) this.guard({ source: ext.__script, extension: ext.name, hook: "setup" }, () => ext.setup?.(this.app));
    await this.comfy.setup();
  }

  // --- NodeFlow's own extensions ----------------------------------------------------------
  register(extension) {
    if (!extension || typeof extension !== "object") return this.report({ message: "registerExtension needs an object" });
    extension.__script ??= this.loadingScript;
    this.extensions.push(extension);
    for (const [type, factory] of Object.entries(extension.widgets || {})) this.app.customWidgets.set(type, factory);
    if (this.started) this.guard({ source: extension.__script, extension: extension.name, hook: "setup" }, () => extension.setup?.(this.app));
  }

  each(hook, ...args) {
    const results = [];
    for (const ext of this.extensions) {
      if (typeof ext[hook] !== "function") continue;
      results.push(this.guard({ source: ext.__script, extension: ext.name, hook }, () => ext[hook](...args, this.app)));
    }
    return results;
  }

  // --- what the editor tells extensions ---------------------------------------------------
  nodeCreated(node) { this.each("nodeCreated", node); }

  executed(node, output) {
    this.each("executed", node, output);
    this.comfy.executed(node, output);
  }

  menuItems(node) {
    const items = this.each("menuItems", node).flatMap((list) => (Array.isArray(list) ? list : []));
    return [...items, ...this.comfy.menuItems(node)];
  }

  widgetChanged(nodeId, name, value) { this.comfy.widgetChanged(nodeId, name, value); }
  beforeLoad(data) { this.comfy.beforeLoad(data); }
  graphLoaded(graph) { this.comfy.graphLoaded(graph); }
  changed(graph) { this.comfy.sync(graph); }
}

export function describe(p) {
  const what = p.extension ? `extension ${p.extension}${p.hook ? ` (${p.hook})` : ""}` : "";
  return `Plugin ${[p.source, what].filter(Boolean).join(" ")}: ${p.message}`;
}

// The history panel: past runs (GET /history) with output thumbnails (/view URLs). A run opens
// to show its images and can load the workflow that produced it (extra_pnginfo.nodeflow_workflow or .workflow, or the
// API prompt itself when the run carries none). The gallery shows every output image.
import { choose } from "./dialog.js";
import { openLightbox } from "./lightbox.js";
import { showLightbox } from "./toolbar.js";

const MAX_ITEMS = 100;

/** NodeFlow's own copy of a run's workflow first, else the ComfyUI one (nodeflow/workflow/share.py). */
const preferredWorkflow = (info) => info.nodeflow_workflow || info.workflow || null;

/** When a run started (ms), how long it took (ms) and how it ended, from its status messages. */
export function runTiming(status) {
  const messages = Array.isArray(status && status.messages) ? status.messages : [];
  const at = (name) => { const m = messages.find((x) => Array.isArray(x) && x[0] === name); return m && m[1] ? Number(m[1].timestamp) || null : null; };
  const started = at("execution_start");
  const ended = at("execution_success") || at("execution_error") || at("execution_interrupted");
  const outcome = messages.some((m) => Array.isArray(m) && m[0] === "execution_interrupted") ? "interrupted"
    : (status && status.status_str) || "unknown";
  return { started, duration: started && ended && ended >= started ? ended - started : null, outcome };
}

/** "12:03:45 · 2.3 s" (or what of it is known). */
export function timingLabel({ started, duration }) {
  const parts = [];
  if (started) parts.push(new Date(started).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }));
  if (duration !== null && duration !== undefined) parts.push(duration < 1000 ? `${Math.round(duration)} ms` : `${(duration / 1000).toFixed(1)} s`);
  return parts.join(" · ");
}

/** History entries newest first: {id, number, status, started, duration, images: [url], byNode: {node id: [url]},
 * workflow, prompt}. */
export function historyEntries(history, viewUrl) {
  return Object.entries(history || {}).map(([id, item]) => {
    const queued = item.prompt || [];
    const images = [];
    const byNode = {};
    for (const [nodeId, output] of Object.entries(item.outputs || {})) {
      for (const image of output.images || []) {
        if (!image || !image.filename) continue;
        images.push(viewUrl(image));
        (byNode[nodeId] ||= []).push(viewUrl(image));
      }
    }
    const extra = queued[3] || {};
    const timing = runTiming(item.status);
    return { id, number: queued[0], prompt: queued[2] || {}, workflow: preferredWorkflow(extra.extra_pnginfo || {}),
      status: timing.outcome, started: timing.started, duration: timing.duration, images, byNode };
  }).sort((a, b) => Number(b.number) - Number(a.number));
}

/** A new element of ``tag`` with a class and, when given, its text. */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** ``container``, or a placeholder saying ``message`` inside it when it has no children. */
function orEmpty(container, tag, message) {
  if (!container.children.length) container.append(element(tag, "empty", message));
  return container;
}

/** An output image that opens in the lightbox when clicked (stepping through `all`, when given). */
function viewable(url, className, title, all = null) {
  const img = thumb(url, className);
  if (title) img.title = title;
  img.addEventListener("click", () => (all ? openLightbox(all, all.indexOf(url)) : showLightbox(url)));
  return img;
}

function thumb(url, className = "thumb") {
  const img = element("img", className);
  img.alt = "output";
  img.loading = "lazy";
  img.src = url;
  return img;
}

export class HistoryPanel {
  constructor(app, element) {
    this.app = app;
    this.element = element;
    this.entries = [];
    this.mode = "runs"; // runs | gallery | run
    this.selected = null;
    element.querySelector("#history-runs").addEventListener("click", () => this.show("runs"));
    element.querySelector("#history-gallery").addEventListener("click", () => this.show("gallery"));
    element.querySelector("#history-clear").addEventListener("click", () => this.clear());
  }

  get visible() { return !this.element.hidden; }

  toggle(show = this.element.hidden) {
    this.element.hidden = !show;
    if (show) this.refresh();
  }

  show(mode, entry = null) {
    this.mode = mode;
    this.selected = entry;
    this.render();
  }

  async refresh() {
    try {
      this.entries = historyEntries(await this.app.api.history(MAX_ITEMS), (img) => this.app.api.viewUrl(img));
    } catch (err) {
      this.app.toast(`Could not read the history: ${err.message}`, "error");
      return;
    }
    if (this.selected) this.selected = this.entries.find((e) => e.id === this.selected.id) || null;
    if (this.mode === "run" && !this.selected) this.mode = "runs";
    this.render();
  }

  render() {
    const body = this.element.querySelector(".history-body");
    for (const button of this.element.querySelectorAll("h2 button")) button.classList.toggle("active", button.id === `history-${this.mode}`);
    if (this.mode === "gallery") body.replaceChildren(this.gallery());
    else if (this.mode === "run") body.replaceChildren(...this.runView(this.selected));
    else body.replaceChildren(this.runList());
  }

  runList() {
    const list = element("ul", "history-list");
    for (const entry of this.entries) {
      const li = element("li", "history-item");
      li.dataset.prompt = entry.id;
      const count = entry.images.length;
      const when = timingLabel(entry);
      const label = element("span", "", `#${entry.number} · ${entry.status}${when ? ` · ${when}` : ""} · ${count} image${count === 1 ? "" : "s"}`);
      li.classList.add(`status-${entry.status}`);
      const thumbs = element("span", "thumbs");
      thumbs.append(...entry.images.slice(-4).map((url) => thumb(url)));
      li.append(label, thumbs);
      li.addEventListener("click", () => this.show("run", entry));
      list.append(li);
    }
    return orEmpty(list, "li", "No finished runs yet.");
  }

  runView(entry) {
    const back = document.createElement("button");
    back.textContent = "‹ All runs";
    back.addEventListener("click", () => this.show("runs"));
    const load = document.createElement("button");
    load.className = "primary history-load";
    load.textContent = entry.workflow ? "Load workflow" : "Load workflow (from its prompt)";
    load.addEventListener("click", () => this.load(entry));
    const when = timingLabel(entry);
    const title = element("p", "history-title", `Run #${entry.number}: ${entry.status}${when ? `, ${when}` : ""}, ${Object.keys(entry.prompt).length} nodes`);
    const images = element("div", "history-images");
    images.append(...entry.images.map((url) => viewable(url, "history-image", "", entry.images)));
    const remove = document.createElement("button");
    remove.className = "history-delete";
    remove.textContent = "Delete run";
    remove.title = "Remove this run from the history (its image files stay in output/)";
    remove.addEventListener("click", () => this.remove(entry));
    const bar = element("div", "history-actions");
    bar.append(back, load, remove);
    return [bar, title, images];
  }

  gallery() {
    const grid = element("div", "gallery");
    const all = this.entries.flatMap((entry) => entry.images);
    for (const entry of this.entries) {
      grid.append(...entry.images.map((url) => viewable(url, "gallery-image", `Run #${entry.number}`, all)));
    }
    return orEmpty(grid, "p", "No output images yet.");
  }

  /** Forget every finished run (POST /history {clear}); output files are kept. */
  async clear() {
    const ok = await choose("Clear the history", "Remove every finished run from the list? The image files stay in output/.",
      [{ label: "Cancel", value: false }, { label: "Clear", value: true, primary: true }], false);
    if (!ok) return;
    try { await this.app.api.post("/history", { clear: true }); } catch (err) { this.app.toast(`Could not clear the history: ${err.message}`, "error"); }
    this.selected = null;
    this.mode = "runs";
    await this.refresh();
  }

  /** Forget one run (POST /history {delete: [id]}). */
  async remove(entry) {
    try { await this.app.api.post("/history", { delete: [entry.id] }); } catch (err) { this.app.toast(`Could not delete run #${entry.number}: ${err.message}`, "error"); return; }
    this.selected = null;
    this.mode = "runs";
    await this.refresh();
  }

  /** Open the run's workflow in a new tab, its nodes showing the images that run made. */
  async load(entry) {
    const tab = await this.app.openInNewTab(entry.workflow || entry.prompt, `Run #${entry.number}`);
    if (!tab) return tab;
    for (const [nodeId, urls] of Object.entries(entry.byNode || {})) if (tab.graph.nodes.has(nodeId)) tab.runtime.images.set(nodeId, urls);
    this.app.view.requestDraw();
    return tab;
  }
}

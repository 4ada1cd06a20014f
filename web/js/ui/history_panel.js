// The history panel: past runs (GET /history) with output thumbnails (/view URLs). A run opens
// to show its images and can load the workflow that produced it (extra_pnginfo.workflow, or the
// API prompt itself when the run carries none). The gallery shows every output image.
import { showLightbox } from "./toolbar.js";

const MAX_ITEMS = 100;

/** History entries newest first: {id, number, status, images: [url], workflow, prompt}. */
export function historyEntries(history, viewUrl) {
  return Object.entries(history || {}).map(([id, item]) => {
    const queued = item.prompt || [];
    const images = [];
    for (const output of Object.values(item.outputs || {})) {
      for (const image of output.images || []) if (image && image.filename) images.push(viewUrl(image));
    }
    const extra = queued[3] || {};
    return { id, number: queued[0], prompt: queued[2] || {}, workflow: (extra.extra_pnginfo || {}).workflow || null,
      status: (item.status || {}).status_str || "unknown", images };
  }).sort((a, b) => Number(b.number) - Number(a.number));
}

function thumb(url, className = "thumb") {
  const img = document.createElement("img");
  img.className = className;
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
    const list = document.createElement("ul");
    list.className = "history-list";
    for (const entry of this.entries) {
      const li = document.createElement("li");
      li.className = "history-item";
      li.dataset.prompt = entry.id;
      const label = document.createElement("span");
      label.textContent = `#${entry.number} · ${entry.status} · ${entry.images.length} image${entry.images.length === 1 ? "" : "s"}`;
      const thumbs = document.createElement("span");
      thumbs.className = "thumbs";
      thumbs.append(...entry.images.slice(-4).map((url) => thumb(url)));
      li.append(label, thumbs);
      li.addEventListener("click", () => this.show("run", entry));
      list.append(li);
    }
    if (!this.entries.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No finished runs yet.";
      list.append(li);
    }
    return list;
  }

  runView(entry) {
    const back = document.createElement("button");
    back.textContent = "‹ All runs";
    back.addEventListener("click", () => this.show("runs"));
    const load = document.createElement("button");
    load.className = "primary history-load";
    load.textContent = entry.workflow ? "Load workflow" : "Load workflow (from its prompt)";
    load.addEventListener("click", () => this.load(entry));
    const title = document.createElement("p");
    title.className = "history-title";
    title.textContent = `Run #${entry.number} (${entry.status}), ${entry.id}`;
    const images = document.createElement("div");
    images.className = "history-images";
    for (const url of entry.images) {
      const img = thumb(url, "history-image");
      img.addEventListener("click", () => showLightbox(url));
      images.append(img);
    }
    const bar = document.createElement("div");
    bar.className = "history-actions";
    bar.append(back, load);
    return [bar, title, images];
  }

  gallery() {
    const grid = document.createElement("div");
    grid.className = "gallery";
    for (const entry of this.entries) {
      for (const url of entry.images) {
        const img = thumb(url, "gallery-image");
        img.title = `Run #${entry.number}`;
        img.addEventListener("click", () => showLightbox(url));
        grid.append(img);
      }
    }
    if (!grid.children.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "No output images yet.";
      grid.append(empty);
    }
    return grid;
  }

  /** Open the run's workflow in a new tab. */
  load(entry) {
    return this.app.openInNewTab(entry.workflow || entry.prompt, `Run #${entry.number}`);
  }
}

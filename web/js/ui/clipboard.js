// Copy, paste and duplicate through the system clipboard (JSON text, so it works across tabs and
// windows), falling back to a buffer kept in localStorage when clipboard permission is missing.
import { copyNodes, parseClipboard, pasteNodes } from "../model/clipboard.js";
import { pasteImageIfTargeted } from "./image_paste.js";

const BUFFER_KEY = "nodeflow.clipboard";
const PERMISSION_WAIT_MS = 1500;

let memory = null; // when localStorage is unavailable too

function withTimeout(promise) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("clipboard timeout")), PERMISSION_WAIT_MS))]);
}

/** Store `text`: the system clipboard when allowed, and always the in-page buffer. Returns where it went. */
export async function writeClipboard(text) {
  memory = text;
  try { localStorage.setItem(BUFFER_KEY, text); } catch { /* storage unavailable */ }
  try {
    await withTimeout(navigator.clipboard.writeText(text));
    return "system";
  } catch {
    return "buffer";
  }
}

/** A NodeFlow payload from the system clipboard, else from the buffer; null when neither has one. */
export async function readClipboard() {
  try {
    const payload = parseClipboard(await withTimeout(navigator.clipboard.readText()));
    if (payload) return payload;
  } catch { /* no permission: use the buffer */ }
  let stored = null;
  try { stored = localStorage.getItem(BUFFER_KEY); } catch { /* storage unavailable */ }
  return parseClipboard(stored ?? memory);
}

export class ClipboardActions {
  constructor(app) {
    this.app = app;
  }

  selectedIds() { return [...this.app.state.selection].filter((id) => this.app.state.graph.nodes.has(id)); }

  async copy() {
    const ids = this.selectedIds();
    if (!ids.length) return null;
    const where = await writeClipboard(JSON.stringify(copyNodes(this.app.state.graph, ids)));
    this.app.toast(`Copied ${ids.length} node${ids.length === 1 ? "" : "s"}${where === "buffer" ? " (in-page clipboard)" : ""}`);
    return where;
  }

  /** Paste at the pointer; `keepExternal` also restores links from nodes outside the copied set. */
  async paste(keepExternal = false) {
    if (!keepExternal && (await pasteImageIfTargeted(this.app))) return []; // an image onto Load Image
    const payload = await readClipboard();
    if (!payload) { this.app.toast("Nothing to paste", "warning"); return []; }
    return this.insert(payload, { at: this.app.interaction.pointerGraph(), keepExternal }, keepExternal ? "paste with links" : "paste");
  }

  duplicate() {
    const ids = this.selectedIds();
    if (!ids.length) return [];
    return this.insert(copyNodes(this.app.state.graph, ids), { offset: [30, 30] }, "duplicate");
  }

  insert(payload, placement, label) {
    const app = this.app;
    const created = app.stack.batch(label, () => pasteNodes(app.state.graph, payload, app.state.objectInfo, (c) => app.run(c), placement));
    app.state.selection = new Set(created);
    app.view.requestDraw();
    return created;
  }
}

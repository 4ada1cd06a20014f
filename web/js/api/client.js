// HTTP and websocket client for the NodeFlow (ComfyUI-compatible) API.
import { viewPath } from "../model/image_refs.js";

export class ApiClient extends EventTarget {
  constructor(base = "") {
    super();
    this.base = base;
    this.clientId = sessionStorage.getItem("nodeflow.clientId") || crypto.randomUUID().replace(/-/g, "");
    sessionStorage.setItem("nodeflow.clientId", this.clientId);
    this.socket = null;
    this.retry = 500;
  }

  async json(path, init = {}) {
    const response = await fetch(this.base + path, init);
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = { error: { message: text } }; }
    if (!response.ok) {
      const error = new Error((body && body.error && body.error.message) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  post(path, body) {
    return this.json(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  objectInfo() { return this.json("/object_info"); }
  queue() { return this.json("/queue"); }
  history(maxItems = 50) { return this.json(`/history?max_items=${maxItems}`); }
  extensions() { return this.json("/extensions"); }
  interrupt(promptId) { return this.post("/interrupt", promptId ? { prompt_id: promptId } : {}); }
  workers() { return this.json("/nodeflow/workers"); }
  deleteQueued(ids) { return this.post("/queue", { delete: ids }); }
  clearQueue() { return this.post("/queue", { clear: true }); }

  // --- the user's files (ComfyUI's /userdata API): paths like "workflows/name.json" ---------------
  userdataUrl(path) { return `/userdata/${encodeURIComponent(path)}`; }
  listUserdata(dir) { return this.json(`/userdata?dir=${encodeURIComponent(dir)}&recurse=true`); }
  getUserdata(path) { return this.json(this.userdataUrl(path)); }
  /** Every user data file (paths below user/default/), or null when the listing failed. */
  userFiles() { return this.json("/userdata?dir=&recurse=true").catch(() => null); }
  /** A user data file's JSON, or null when there is none (looked up in the listing, so no 404 is logged). */
  async getUserdataIfPresent(path) {
    const files = await this.userFiles();
    if (Array.isArray(files) && !files.includes(path)) return null;
    return this.getUserdata(path);
  }
  /** The files below user folder `dir`, [] when it does not exist (no failing request either). */
  async listUserdataIfPresent(dir) {
    const files = await this.userFiles();
    if (Array.isArray(files) && !files.some((f) => f.startsWith(`${dir}/`))) return [];
    return this.listUserdata(dir);
  }
  saveUserdata(path, data, overwrite = true) {
    return this.json(`${this.userdataUrl(path)}?overwrite=${overwrite}`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: typeof data === "string" ? data : JSON.stringify(data) });
  }
  moveUserdata(path, dest, overwrite = false) {
    return this.json(`${this.userdataUrl(path)}/move/${encodeURIComponent(dest)}?overwrite=${overwrite}`, { method: "POST" });
  }
  deleteUserdata(path) { return this.json(this.userdataUrl(path), { method: "DELETE" }); }

  queuePrompt(prompt, workflow, extra = {}) {
    return this.post("/prompt", { prompt, client_id: this.clientId, extra_data: { extra_pnginfo: { workflow } }, ...extra });
  }

  /** Any workflow format (or a PNG/WebP File) -> NodeFlow format, through the backend converter. */
  async convert(data) {
    if (data instanceof Blob) {
      return this.json("/nodeflow/convert?to=nodeflow", { method: "POST", headers: { "Content-Type": data.type || "image/png" }, body: data });
    }
    return this.post("/nodeflow/convert", { workflow: data, to: "nodeflow" });
  }

  async uploadImage(file) {
    const form = new FormData();
    form.append("image", file, file.name);
    return this.json("/upload/image", { method: "POST", body: form });
  }

  viewUrl(image) { return this.base + viewPath(image); }

  /** ComfyUI's mask upload: the alpha of `blob` becomes the alpha of the image `originalRef` names,
   * saved as a new PNG (`name`) in input/. Resolves to {name, subfolder, type}. */
  uploadMask(blob, name, originalRef) {
    const form = new FormData();
    form.append("image", blob, name);
    form.append("original_ref", JSON.stringify(originalRef));
    form.append("type", "input");
    return this.json("/upload/mask", { method: "POST", body: form });
  }

  /** Connect the websocket; reconnects on its own. Emits "ws:<type>" events and "preview"/"text". */
  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${proto}://${location.host}${this.base}/ws?clientId=${this.clientId}`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => { this.retry = 500; this.dispatchEvent(new CustomEvent("connected")); });
    socket.addEventListener("message", (event) => this.onMessage(event.data));
    socket.addEventListener("close", () => {
      this.dispatchEvent(new CustomEvent("disconnected"));
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 8000);
    });
  }

  onMessage(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      this.dispatchEvent(new CustomEvent(`ws:${message.type}`, { detail: message.data }));
      return;
    }
    const view = new DataView(data);
    const kind = view.getUint32(0);
    if (kind === 1) {
      const format = view.getUint32(4) === 2 ? "image/png" : "image/jpeg";
      this.dispatchEvent(new CustomEvent("preview", { detail: new Blob([data.slice(8)], { type: format }) }));
    } else if (kind === 3) {
      const length = view.getUint32(4);
      const decoder = new TextDecoder();
      const node = decoder.decode(data.slice(8, 8 + length));
      this.dispatchEvent(new CustomEvent("text", { detail: { node, text: decoder.decode(data.slice(8 + length)) } }));
    }
  }
}

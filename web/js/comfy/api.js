// `api` as ComfyUI extensions see it (ComfyUI's scripts/api.js): websocket events as DOM events
// with ComfyUI's `detail` shapes (custom events a pack's Python sends included), fetchApi/apiURL,
// and the usual REST helpers, over NodeFlow's ApiClient. A listener that throws is reported.

/** ComfyUI's event detail for a websocket message of `type` carrying `data`. */
export function eventDetail(type, data) {
  if (type === "status") return data && "status" in data ? data.status : data ?? null;
  if (type === "executing") return data ? data.display_node ?? data.node ?? null : null;
  return data;
}

// NodeFlow client events behind ComfyUI's non-message events.
const SOURCES = { b_preview: "preview", reconnected: "connected", reconnecting: "disconnected" };

export class ComfyApi extends EventTarget {
  constructor(client, host) {
    super();
    this.client = client;
    this.host = host;
    this.api_host = typeof location !== "undefined" ? location.host : "";
    this.api_base = "";
    this.bridged = new Set();
    this.wrappers = new Map(); // listener -> Map(type -> wrapped listener)
    this.connections = 0;
    client.addEventListener("connected", () => { this.connections += 1; });
  }

  get clientId() { return this.client.clientId; }
  get initialClientId() { return this.client.clientId; }
  get socket() { return this.client.socket; }

  addEventListener(type, listener, options) {
    if (!listener) return;
    this.bridge(type);
    let byType = this.wrappers.get(listener);
    if (!byType) this.wrappers.set(listener, (byType = new Map()));
    if (!byType.has(type)) {
      byType.set(type, (event) => this.host.guard({ extension: `api listener "${type}"`, hook: null }, () =>
        (typeof listener === "function" ? listener.call(this, event) : listener.handleEvent(event))));
    }
    super.addEventListener(type, byType.get(type), options);
  }

  removeEventListener(type, listener, options) {
    const wrapped = this.wrappers.get(listener)?.get(type);
    super.removeEventListener(type, wrapped || listener, options);
  }

  /** Forward NodeFlow's client event for `type` (once per type), reshaped as ComfyUI's. */
  bridge(type) {
    if (this.bridged.has(type)) return;
    this.bridged.add(type);
    const source = SOURCES[type] || `ws:${type}`;
    this.client.addEventListener(source, (event) => {
      if (type === "reconnected" && this.connections < 2) return; // the first connect is no reconnect
      this.dispatchEvent(new CustomEvent(type, { detail: eventDetail(type, event.detail) }));
    });
  }

  dispatchCustomEvent(type, detail) { return this.dispatchEvent(new CustomEvent(type, { detail })); }

  apiURL(route) { return `${this.api_base}/api${route}`; }
  fileURL(route) { return `${this.api_base}${route}`; }
  internalURL(route) { return `${this.api_base}/internal${route}`; }

  /** fetch() of a server route under /api (every NodeFlow route is served there too). */
  fetchApi(route, options = {}) {
    return fetch(this.apiURL(route), { cache: "no-cache", ...options, headers: { ...(options.headers || {}) } });
  }

  async json(route, options) {
    const response = await this.fetchApi(route, options);
    if (!response.ok) throw new Error(`${route}: ${response.status} ${response.statusText}`);
    return response.json();
  }

  getNodeDefs() { return this.json("/object_info"); }
  getExtensions() { return this.json("/extensions"); }
  getEmbeddings() { return this.json("/embeddings"); }
  getSystemStats() { return this.json("/system_stats"); }
  getModelFolders() { return this.json("/models"); }
  getModels(folder) { return this.json(`/models/${encodeURIComponent(folder)}`); }
  getHistory(maxItems = 200) { return this.json(`/history?max_items=${maxItems}`).then((h) => ({ History: Object.values(h) })); }

  async getQueue() {
    const queue = await this.json("/queue");
    return { Running: queue.queue_running, Pending: queue.queue_pending };
  }

  interrupt() { return this.fetchApi("/interrupt", { method: "POST" }); }
  clearItems(type) { return this.fetchApi(`/${type}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ clear: true }) }); }
  deleteItem(type, id) { return this.fetchApi(`/${type}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ delete: [id] }) }); }

  /** POST /prompt as ComfyUI's api.queuePrompt(number, {output, workflow}). */
  async queuePrompt(number, { output, workflow }) {
    const body = { client_id: this.clientId, prompt: output, extra_data: { extra_pnginfo: { workflow } } };
    if (number === -1) body.front = true;
    else if (number !== 0) body.number = number;
    const response = await this.fetchApi("/prompt", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const result = await response.json();
    if (response.status !== 200) { const error = new Error(result.error?.message || response.statusText); error.response = result; throw error; }
    return result;
  }

  // ComfyUI's per-user files and settings (NodeFlow: /userdata, and the adapter's settings store)
  getUserData(file, options) { return this.fetchApi(`/userdata/${encodeURIComponent(file)}`, options); }

  storeUserData(file, data, { overwrite = true, stringify = true, throwOnError = true } = {}) {
    return this.fetchApi(`/userdata/${encodeURIComponent(file)}?overwrite=${overwrite}`, { method: "POST",
      headers: { "Content-Type": stringify ? "application/json" : "application/octet-stream" }, body: stringify ? JSON.stringify(data) : data })
      .then((response) => { if (throwOnError && !response.ok) throw new Error(`storing ${file}: ${response.status} ${response.statusText}`); return response; });
  }

  deleteUserData(file) { return this.fetchApi(`/userdata/${encodeURIComponent(file)}`, { method: "DELETE" }); }
  async getSettings() { return { ...this.host.comfy.settings.values }; }
  async getSetting(id) { return this.host.comfy.settings.getSettingValue(id); }
  async storeSetting(id, value) { this.host.comfy.settings.setSettingValue(id, value); }
  async storeSettings(values) { for (const [id, value] of Object.entries(values)) this.host.comfy.settings.setSettingValue(id, value); }
}

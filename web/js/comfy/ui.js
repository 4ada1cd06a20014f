// ComfyUI's UI helpers as extensions use them: `$el` (scripts/ui.js), a small ComfyDialog,
// `app.ui.settings` (addSetting / getSettingValue / setSettingValue, kept in the user's
// comfy.settings.json through /userdata, listed in NodeFlow's settings panel) and toasts.

export const SETTINGS_FILE = "comfy.settings.json";

/** `$el("div.a.b#id", {props, style, dataset, parent, $}, children)` as in ComfyUI. */
export function $el(tag, propsOrChildren, maybeChildren) {
  const [name, ...classes] = tag.split(".");
  const [tagName, id] = name.split("#");
  const element = document.createElement(tagName || "div");
  if (id) element.id = id;
  for (const cls of classes) element.classList.add(cls);
  let props = propsOrChildren;
  let children = maybeChildren;
  if (Array.isArray(propsOrChildren) || propsOrChildren instanceof Node || typeof propsOrChildren === "string") { children = propsOrChildren; props = undefined; }
  if (children != null) element.append(...(Array.isArray(children) ? children : [children]).filter((c) => c != null));
  if (props) {
    const { parent, $: callback, dataset, style, ...rest } = props;
    if (dataset) Object.assign(element.dataset, dataset);
    if (style) Object.assign(element.style, style);
    Object.assign(element, rest);
    if (callback) callback(element);
    if (parent) parent.append(element);
  }
  return element;
}

/** A modal box: show(html string | element | [elements]), close(). */
export class ComfyDialog {
  constructor() {
    this.element = $el("div.dialog-backdrop", [$el("div.dialog.comfy-modal", [
      (this.textElement = $el("div.comfy-modal-content")),
      $el("div.dialog-buttons", [$el("button", { type: "button", textContent: "Close", onclick: () => this.close() })]),
    ])]);
  }

  show(content) {
    this.textElement.replaceChildren();
    if (typeof content === "string") this.textElement.innerHTML = content; // ComfyUI's contract: extension-supplied HTML
    else this.textElement.append(...(Array.isArray(content) ? content : [content]));
    if (!this.element.isConnected) document.body.append(this.element);
    this.element.hidden = false;
  }

  close() { this.element.remove(); }
}

export class ComfySettings {
  constructor(editor, host) {
    this.editor = editor;
    this.host = host;
    this.values = {};
    this.defs = new Map();
    this.timer = null;
  }

  async load() {
    try {
      const data = await this.editor.api.getUserdataIfPresent(SETTINGS_FILE);
      if (data && typeof data === "object" && !Array.isArray(data)) this.values = data;
    } catch (err) {
      if (err.status !== 404) this.host.report({ source: SETTINGS_FILE, message: `could not read extension settings: ${err.message}` });
    }
  }

  saveSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.editor.api.saveUserdata(SETTINGS_FILE, this.values, true)
      .catch((err) => this.editor.toast(`Could not save extension settings: ${err.message}`, "error")), 200);
  }

  /** ComfyUI's addSetting({id, name, type, defaultValue, onChange, options, attrs, tooltip}). */
  addSetting(def) {
    if (!def || !def.id) throw new Error("addSetting needs an id");
    this.defs.set(def.id, def);
    const value = this.getSettingValue(def.id);
    this.host.guard({ extension: def.id, hook: "setting onChange" }, () => def.onChange?.(value, undefined));
    const settings = this;
    return { get value() { return settings.getSettingValue(def.id); }, set value(v) { settings.setSettingValue(def.id, v); } };
  }

  getSettingValue(id, fallback = undefined) {
    if (id in this.values) return this.values[id];
    const def = this.defs.get(id);
    return def && def.defaultValue !== undefined ? def.defaultValue : fallback;
  }

  setSettingValue(id, value) {
    const old = this.getSettingValue(id);
    this.values[id] = value;
    this.saveSoon();
    const def = this.defs.get(id);
    if (def && old !== value) this.host.guard({ extension: id, hook: "setting onChange" }, () => def.onChange?.(value, old));
  }

  // old and new spellings
  getSettingDefaultValue(id) { return this.defs.get(id)?.defaultValue; }
  get(id) { return this.getSettingValue(id); }
  set(id, value) { return this.setSettingValue(id, value); }

  /** Rows for NodeFlow's settings panel: booleans, numbers, sliders, text and combos. */
  rows() {
    const rows = [];
    for (const def of this.defs.values()) {
      if (def.type === "hidden") continue;
      const value = this.getSettingValue(def.id);
      let control;
      if (def.type === "boolean") {
        control = $el("input", { type: "checkbox", checked: !!value, onchange: () => this.setSettingValue(def.id, control.checked) });
      } else if (def.type === "combo") {
        const options = (typeof def.options === "function" ? def.options(value) : def.options || []).map((o) => (typeof o === "object" ? o : { text: String(o), value: o }));
        control = $el("select", { onchange: () => this.setSettingValue(def.id, options[control.selectedIndex].value) },
          options.map((o) => $el("option", { textContent: o.text, selected: o.value === value })));
      } else if (def.type === "number" || def.type === "slider") {
        control = $el("input", { type: def.type === "slider" ? "range" : "number", value: String(value ?? ""), ...(def.attrs || {}),
          onchange: () => this.setSettingValue(def.id, Number(control.value)) });
      } else if (def.type === "text" || !def.type) {
        control = $el("input", { type: "text", value: String(value ?? ""), onchange: () => this.setSettingValue(def.id, control.value) });
      } else continue; // custom renderers (a function type) are not drawn
      control.name = def.id;
      rows.push($el("label.setting", { title: def.tooltip || "" }, [$el("span", { textContent: String(def.name || def.id) }), control]));
    }
    return rows;
  }
}

/** app.extensionManager.toast: add({severity, summary, detail, life}), addAlert(text). */
export function toastApi(editor) {
  const kind = { error: "error", warn: "warning", warning: "warning" };
  return {
    add({ severity = "info", summary = "", detail = "" } = {}) { editor.toast([summary, detail].filter(Boolean).join(": "), kind[severity] || "info"); },
    addAlert(message) { editor.toast(String(message), "warning"); },
    remove() {},
    removeAll() {},
  };
}

/** scripts/utils.js: a stylesheet link (`url` relative to `relativeTo`, e.g. import.meta.url). */
export function addStylesheet(url, relativeTo) {
  return new Promise((resolve, reject) => {
    const href = relativeTo ? new URL(url.endsWith(".js") ? url.replace(/\.js$/, ".css") : url, relativeTo).href : url;
    const link = $el("link", { rel: "stylesheet", type: "text/css", href, onload: resolve, onerror: reject });
    document.head.append(link);
  });
}

export function getStorageValue(id) { return localStorage.getItem(id); }
export function setStorageValue(id, value) { localStorage.setItem(id, value); }

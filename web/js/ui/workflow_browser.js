// The workflow browser: workflows saved on the server in the user folder (workflows/ through
// /userdata), opened in tabs; save, save as, rename and delete. Names are shown as text only.
import { ask, choose } from "./dialog.js";

const DIR = "workflows";

export const displayName = (path) => String(path).replace(/^workflows\//, "").replace(/\.json$/i, "");

/** A file name typed by the user -> "workflows/<name>.json" (no leading slashes or dot segments). */
export function workflowPath(name) {
  const clean = String(name).trim().replace(/\\/g, "/").split("/").filter((part) => part && part !== "." && part !== "..").join("/");
  if (!clean) return null;
  return `${DIR}/${/\.json$/i.test(clean) ? clean : `${clean}.json`}`;
}

export class WorkflowBrowser {
  constructor(app, element) {
    this.app = app;
    this.element = element;
    this.files = [];
  }

  get visible() { return !this.element.hidden; }

  toggle(show = this.element.hidden) {
    this.element.hidden = !show;
    if (show) this.refresh();
  }

  async refresh() {
    try {
      this.files = (await this.app.api.listUserdataIfPresent(DIR)).filter((f) => /\.json$/i.test(f)).map((f) => `${DIR}/${f}`);
    } catch (err) {
      if (err.status !== 404) this.app.toast(`Could not list workflows: ${err.message}`, "error");
      this.files = [];
    }
    this.render();
    return this.files;
  }

  render() {
    const list = this.element.querySelector("ul");
    const rows = this.files.map((path) => {
      const li = document.createElement("li");
      li.dataset.path = path;
      const name = document.createElement("button");
      name.className = "link wf-open";
      name.textContent = displayName(path);
      name.title = `Open ${path}`;
      if (this.app.tabs.findByPath(path)) name.classList.add("open");
      name.addEventListener("click", () => this.open(path));
      const rename = document.createElement("button");
      rename.className = "wf-rename";
      rename.textContent = "Rename";
      rename.addEventListener("click", () => this.rename(path));
      const remove = document.createElement("button");
      remove.className = "wf-delete";
      remove.textContent = "Delete";
      remove.addEventListener("click", () => this.remove(path));
      const actions = document.createElement("span");
      actions.append(rename, remove);
      li.append(name, actions);
      return li;
    });
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No saved workflows yet: Save puts the current tab here.";
      rows.push(li);
    }
    list.replaceChildren(...rows);
  }

  async open(path) {
    const existing = this.app.tabs.findByPath(path);
    if (existing) { this.app.tabs.activate(existing); return existing; }
    try {
      const data = await this.app.api.getUserdata(path);
      return await this.app.openInNewTab(data, displayName(path), path);
    } catch (err) {
      this.app.toast(`Could not open ${displayName(path)}: ${err.message}`, "error");
      return null;
    }
  }

  /** Save `tab` to its file (or ask for a name first). Resolves true when saved. */
  async save(tab = this.app.tabs.active, quiet = false) {
    if (!tab.path) return this.saveAs(tab);
    try {
      await this.app.api.saveUserdata(tab.path, tab.graph.toJSON(), true);
    } catch (err) {
      this.app.toast(`Could not save ${tab.name}: ${err.message}`, "error");
      return false;
    }
    this.app.tabs.markSaved(tab);
    if (!quiet) this.app.toast(`Saved ${tab.name}`);
    if (this.visible) this.refresh();
    return true;
  }

  async saveAs(tab = this.app.tabs.active) {
    const name = await ask("Save workflow as", "Name in your workflows folder:", tab.path ? displayName(tab.path) : tab.name, "Save");
    const path = name && workflowPath(name);
    if (!path) return false;
    const json = tab.graph.toJSON();
    try {
      await this.app.api.saveUserdata(path, json, false);
    } catch (err) {
      if (err.status !== 409) { this.app.toast(`Could not save: ${err.message}`, "error"); return false; }
      const answer = await choose("Replace workflow?", `“${displayName(path)}” already exists.`,
        [{ label: "Cancel", value: false }, { label: "Replace", value: true, primary: true }], false);
      if (!answer) return false;
      await this.app.api.saveUserdata(path, json, true);
    }
    this.app.tabs.markSaved(tab, path, displayName(path));
    this.app.toast(`Saved ${displayName(path)}`);
    if (this.visible) this.refresh();
    return true;
  }

  async rename(path) {
    const name = await ask("Rename workflow", "New name:", displayName(path), "Rename");
    const dest = name && workflowPath(name);
    if (!dest || dest === path) return false;
    try {
      await this.app.api.moveUserdata(path, dest, false);
    } catch (err) {
      this.app.toast(err.status === 409 ? `“${displayName(dest)}” already exists` : `Could not rename: ${err.message}`, "error");
      return false;
    }
    for (const tab of this.app.tabs.tabs.filter((t) => t.path === path)) Object.assign(tab, { path: dest, name: displayName(dest) });
    this.app.tabs.render();
    this.app.tabs.persist();
    await this.refresh();
    return true;
  }

  async remove(path) {
    const answer = await choose("Delete workflow?", `“${displayName(path)}” will be deleted from the server.`,
      [{ label: "Cancel", value: false }, { label: "Delete", value: true, primary: true }], false);
    if (!answer) return false;
    try {
      await this.app.api.deleteUserdata(path);
    } catch (err) {
      this.app.toast(`Could not delete: ${err.message}`, "error");
      return false;
    }
    for (const tab of this.app.tabs.tabs.filter((t) => t.path === path)) Object.assign(tab, { path: null, restoredDirty: true });
    this.app.tabs.render();
    await this.refresh();
    return true;
  }
}

// Editing widget values: click, drag-to-change numbers, text and combo overlays, uploads.
// Overlays are DOM elements over the canvas; user text goes in via .value/.textContent only.
import { setControl, setWidget } from "../model/commands.js";
import { comboOptions, normaliseNumber, options } from "../model/types.js";
import { keepInside } from "./place.js";

const CONTROLS = ["fixed", "increment", "decrement", "randomize"];

export class WidgetEditor {
  constructor(app) {
    this.app = app;
    this.typing = 0;
    this.editing = null; // {field, nodeId, name}: the open text editor, kept on its row as the view moves
    app.view.overlayers.push(() => this.follow());
  }

  follow() {
    const edit = this.editing;
    if (!edit || !edit.field.isConnected) { this.editing = null; return; }
    const node = this.app.state.graph.nodes.get(edit.nodeId);
    const layout = node && this.app.view.layouts.get(node.id);
    const row = layout && layout.widgets.find((r) => r.name === edit.name && !r.control && !r.upload);
    if (row) this.place(edit.field, row); else edit.field.blur();
  }

  set(nodeId, name, value, mergeKey = null) {
    this.app.run(setWidget(nodeId, name, value, mergeKey));
    this.app.extensionHost.widgetChanged(nodeId, name, value);
  }

  step(row) {
    const opts = options(row.spec);
    return opts.step ?? (row.kind === "INT" ? 1 : 0.01);
  }

  drag(drag, dxPixels) {
    const node = this.app.state.graph.nodes.get(drag.nodeId);
    if (!node) return;
    const steps = Math.round(dxPixels / 6);
    const value = normaliseNumber(drag.row.spec, Number(drag.value) + steps * this.step(drag.row));
    if (value !== node.widgets[drag.row.name]) this.set(drag.nodeId, drag.row.name, value, `drag-${drag.startClient.join(",")}`);
  }

  click(nodeId, row, graphX, event) {
    const node = this.app.state.graph.nodes.get(nodeId);
    if (!node) return;
    if (row.note && event && this.openNoteLink(nodeId, event)) return;
    if (row.control) {
      const next = CONTROLS[(CONTROLS.indexOf(node.controls[row.name] || "fixed") + 1) % CONTROLS.length];
      this.app.run(setControl(nodeId, row.name, next));
      return;
    }
    if (row.upload) return this.pickFile(nodeId, row.name);
    if (row.press) return row.press(event, graphX); // extension buttons and drawn widgets
    if (row.kind === "CUSTOM") {
      const factory = this.app.state.graph.customWidgets.get(row.spec[0]);
      const value = factory && factory.edit ? factory.edit(node.widgets[row.name], node, row.name) : undefined;
      if (value !== undefined) this.set(nodeId, row.name, value);
      return;
    }
    if (row.kind === "BOOLEAN") return this.set(nodeId, row.name, !node.widgets[row.name]);
    if (row.kind === "INT" || row.kind === "FLOAT") {
      if (graphX < row.x + 20) return this.set(nodeId, row.name, normaliseNumber(row.spec, Number(node.widgets[row.name]) - this.step(row)));
      if (graphX > row.x + row.w - 20) return this.set(nodeId, row.name, normaliseNumber(row.spec, Number(node.widgets[row.name]) + this.step(row)));
      return this.textOverlay(node, row);
    }
    if (row.kind === "COMBO") {
      if (graphX < row.x + 20) return this.stepCombo(node, row, -1);
      if (graphX > row.x + row.w - 20) return this.stepCombo(node, row, 1);
      return this.comboOverlay(node, row, event);
    }
    const area = row.text && this.app.textAreas.element(nodeId, row.name);
    if (area) return area.focus();
    return this.textOverlay(node, row);
  }

  /** A click on a link drawn in a markdown note opens it in a new tab (elsewhere the note is edited). */
  openNoteLink(nodeId, event) {
    const [x, y] = this.app.view.toGraph(event.clientX, event.clientY);
    const link = (this.app.view.noteLinks.get(nodeId) || []).find((l) => x >= l.x && x <= l.x + l.w && y >= l.y && y <= l.y + l.h);
    if (link) window.open(link.href, "_blank", "noopener");
    return !!link;
  }

  place(element, row) {
    const [sx, sy] = this.app.view.toScreen(row.x, row.y);
    const scale = this.app.state.graph.viewport.scale;
    Object.assign(element.style, { left: `${sx}px`, top: `${sy}px`, minWidth: `${Math.max(160, row.w * scale)}px` });
    if (element.isConnected && element.classList.contains("combo-editor")) keepInside(element, sx, sy); // its list stays in the window
  }

  textOverlay(node, row) {
    const multiline = !!options(row.spec).multiline;
    const field = document.createElement(multiline ? "textarea" : "input");
    field.className = "widget-editor";
    field.dataset.node = node.id;
    field.dataset.widget = row.name;
    field.value = String(node.widgets[row.name] ?? "");
    this.place(field, row);
    const key = `type-${++this.typing}`;
    const commit = () => {
      let value = field.value;
      if (row.kind === "INT" || row.kind === "FLOAT") value = normaliseNumber(row.spec, value);
      if (value !== node.widgets[row.name]) this.set(node.id, row.name, value, key);
    };
    field.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter" && (!multiline || e.ctrlKey)) {
        e.preventDefault();
        commit();
        this.app.closeOverlays();
        if (e.ctrlKey || e.metaKey) this.app.queue(null, e.shiftKey ? { front: true } : {}); // Ctrl+Enter queues from any editor
      }
      if (e.key === "Escape") this.app.closeOverlays();
    });
    if (multiline) field.addEventListener("input", commit); // live; one undo step per editing session
    field.addEventListener("blur", () => { commit(); field.remove(); });
    this.app.showOverlay(field);
    this.editing = { field, nodeId: node.id, name: row.name };
    field.focus();
    field.select?.();
  }

  /** ‹ ›: the previous or next choice (it stops at either end, as ComfyUI's arrows do). */
  stepCombo(node, row, direction) {
    const values = comboOptions(row.spec);
    if (!values.length) return;
    const at = values.findIndex((v) => v === node.widgets[row.name]);
    const next = values[Math.max(0, Math.min(values.length - 1, at < 0 ? 0 : at + direction))];
    if (next !== node.widgets[row.name]) this.set(node.id, row.name, next);
  }

  comboOverlay(node, row) {
    const box = document.createElement("div");
    box.className = "combo-editor";
    const filter = document.createElement("input");
    filter.placeholder = "filter…";
    const list = document.createElement("ul");
    const values = comboOptions(row.spec);
    const render = () => {
      list.replaceChildren();
      const q = filter.value.toLowerCase();
      for (const value of values.filter((v) => String(v).toLowerCase().includes(q)).slice(0, 200)) {
        const item = document.createElement("li");
        item.textContent = String(value);
        if (value === node.widgets[row.name]) item.className = "current";
        item.addEventListener("pointerdown", (e) => { e.preventDefault(); this.set(node.id, row.name, value); this.app.closeOverlays(); });
        list.append(item);
      }
      if (!list.children.length) {
        const empty = document.createElement("li");
        empty.className = "empty";
        empty.textContent = values.length ? "no match" : "no files: add some to the folder";
        list.append(empty);
      }
    };
    filter.addEventListener("input", render);
    filter.addEventListener("keydown", (e) => {
      e.stopPropagation();
      const items = [...list.children].filter((li) => li.className !== "empty");
      let at = items.findIndex((li) => li.classList.contains("active"));
      if (at < 0 && !filter.value) at = items.findIndex((li) => li.classList.contains("current")); // arrows start at the value
      if (e.key === "ArrowDown" || e.key === "ArrowUp") { // the arrows walk the list; Enter takes the marked value
        e.preventDefault();
        const next = items[Math.max(0, Math.min(items.length - 1, at + (e.key === "ArrowDown" ? 1 : -1)))];
        items.forEach((li) => li.classList.toggle("active", li === next));
        next?.scrollIntoView({ block: "nearest" });
      }
      const pick = items[at] || items[0];
      if (e.key === "Enter" && pick) {
        this.set(node.id, row.name, values.find((v) => String(v) === pick.textContent));
        this.app.closeOverlays();
      }
      if (e.key === "Escape") this.app.closeOverlays();
    });
    box.append(filter, list);
    render();
    this.app.showOverlay(box);
    this.place(box, row);
    this.editing = { field: box, nodeId: node.id, name: row.name };
    filter.focus();
  }

  pickFile(nodeId, name) {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "image/*";
    input.addEventListener("change", () => { if (input.files[0]) this.upload(nodeId, name, input.files[0]); });
    input.click();
  }

  async upload(nodeId, name, file) {
    try {
      const result = await this.app.api.uploadImage(file);
      const value = result.subfolder ? `${result.subfolder}/${result.name}` : result.name;
      await this.app.refreshObjectInfo();
      this.set(nodeId, name, value); // the node shows the file its widget names (render/node_images.js)
      this.app.view.requestDraw();
    } catch (err) {
      this.app.toast(`Upload failed: ${err.message}`, "error");
    }
  }
}

// Widgets as ComfyUI extensions see them (`node.widgets[i]`): LiteGraph-shaped objects. A widget of a
// node input and a value widget an extension adds keep their value in the NodeFlow node's `widgets`
// dict (saved with the workflow, sent in the prompt, undoable when the user edits it); buttons keep
// theirs locally. Each gives the renderer a row through `toRow()` (see render/layout.js).
import { comboOptions } from "../model/types.js";

export const CONTROL_VALUES = ["fixed", "increment", "decrement", "randomize"];
const TYPE_OF_KIND = { INT: "number", FLOAT: "number", STRING: "text", BOOLEAN: "toggle", COMBO: "combo", CUSTOM: "custom" };
const DRAWN_HEIGHT = 20; // LiteGraph's NODE_WIDGET_HEIGHT

export class Widget {
  constructor(node, fields) {
    Object.defineProperty(this, "node", { value: node, writable: true, enumerable: false });
    this.name = fields.name;
    this.type = fields.type;
    this.options = fields.options || {};
    this.y = 0;
    this.last_y = 0;
    for (const [key, value] of Object.entries(fields)) if (!(key in this) && key !== "value") this[key] = value;
  }

  get model() { return this.node._model; }
  get value() { return this.model.widgets[this.name]; }
  set value(v) {
    if (this.model.widgets[this.name] === v) return;
    this.model.widgets[this.name] = v;
    this.node._touch();
  }

  /** ComfyUI: `options.serialize === false` keeps a widget out of the prompt. */
  get inPrompt() { return !(this.options && this.options.serialize === false); }
  /** ComfyUI: `widget.serialize === false` keeps it out of the saved workflow. */
  get saved() { return this.serialize !== false; }

  isHidden() {
    if (this.hidden || this.type === "hidden" || String(this.type).startsWith("converted-widget")) return true;
    if (typeof this.computeSize === "function" && !this.draw && !this.element) {
      const size = this.node._guard(`widget ${this.name}.computeSize`, () => this.computeSize(this.node.size[0]));
      return Array.isArray(size) && size[1] <= 0; // the LiteGraph way of hiding: computeSize -> [0, -4]
    }
    return false;
  }

  toRow() { return this.isHidden() ? null : { name: this.name, kind: this.kind || "STRING", spec: this.spec || ["STRING", {}], widget: this }; }
}

/** A widget of one of the node's own inputs (its row is NodeFlow's usual row). */
export function specWidget(node, name, spec, kind) {
  const opts = spec[1] && typeof spec[1] === "object" ? spec[1] : {};
  const options = kind === "COMBO" ? { ...opts, values: comboOptions(spec) }
    : kind === "INT" || kind === "FLOAT" ? { ...opts, step: 10 * (opts.step ?? 1), step2: opts.step ?? 1, precision: kind === "INT" ? 0 : undefined }
      : { ...opts };
  const type = kind === "STRING" && opts.multiline ? "customtext" : TYPE_OF_KIND[kind];
  const widget = new Widget(node, { name, type, options, kind, spec });
  const listed = options.values;
  widget.toRow = function toRow() {
    if (this.isHidden() || this.model.inputs.some((i) => i.widget && i.name === this.name)) return null;
    const values = this.options.values; // an extension may refresh a combo's list
    const rowSpec = kind === "COMBO" && Array.isArray(values) && values !== listed ? [values, opts] : this.spec;
    return { name: this.name, kind: this.kind, spec: rowSpec, widget: this };
  };
  return widget;
}

/** ComfyUI's "control_after_generate" combo beside a seed; its value is NodeFlow's control mode. */
export function controlWidget(node, target) {
  const widget = new Widget(node, { name: "control_after_generate", type: "combo", options: { values: CONTROL_VALUES }, target });
  Object.defineProperty(widget, "value", {
    get() { return this.model.controls[target] || "fixed"; },
    set(v) { if (CONTROL_VALUES.includes(v)) { this.model.controls[target] = v; this.node._touch(); } },
  });
  Object.defineProperty(widget, "inPrompt", { value: false });
  widget.toRow = function toRow() {
    if (this.isHidden() || this.model.inputs.some((i) => i.widget && i.name === target)) return null;
    return { name: target, kind: "CONTROL", spec: node._specOf(target), control: true, widget: this };
  };
  return widget;
}

/** The "upload" button of an image_upload combo. */
export function uploadWidget(node, target) {
  const widget = new Widget(node, { name: "upload", type: "button", options: { serialize: false }, target, serialize: false });
  Object.defineProperty(widget, "value", { get: () => null, set: () => {} });
  widget.callback = () => node._app.editor.widgets?.pickFile(node._model.id, target);
  widget.toRow = function toRow() { return this.isHidden() ? null : { name: target, kind: "UPLOAD", spec: node._specOf(target), upload: true, widget: this }; };
  return widget;
}

/** The NodeFlow kind and spec of a LiteGraph widget type ("number", "combo", "text", ...). */
export function kindOf(type, options = {}) {
  if (type === "number" || type === "slider") {
    const step = options.step2 ?? (options.step != null ? options.step / 10 : undefined);
    const kind = options.precision === 0 ? "INT" : "FLOAT";
    return [kind, [kind, { min: options.min, max: options.max, step, round: typeof options.round === "number" ? options.round : undefined }]];
  }
  if (type === "combo") return ["COMBO", null]; // values are read when drawn: extensions replace options.values
  if (type === "toggle") return ["BOOLEAN", ["BOOLEAN", {}]];
  if (type === "text" || type === "string" || type === "customtext") return ["STRING", ["STRING", { multiline: type === "customtext" }]];
  return [null, null];
}

/** `node.addWidget(type, name, value, callback, options)`: a value widget, a button or a drawn widget. */
export function addedWidget(node, type, name, value, callback, options) {
  if (typeof options === "string") options = { property: options };
  options = options || {};
  if (type === "button") return buttonWidget(node, { name, type, value, callback, options });
  const [kind, spec] = kindOf(type, options);
  const widget = new Widget(node, { name, type, options, callback, kind, spec, extension: true });
  if (!(name in node._model.widgets) || node._model.widgets[name] === undefined) node._model.widgets[name] = value;
  widget.toRow = function toRow() {
    if (this.isHidden()) return null;
    if (this.draw) return drawnRow(this);
    const [k, s] = kindOf(this.type, this.options);
    if (!k) return drawnRow(this);
    const values = typeof this.options.values === "function" ? this.node._guard(`widget ${this.name}.values`, () => this.options.values(this, this.node)) : this.options.values;
    return { name: this.name, kind: k, spec: k === "COMBO" ? [Array.isArray(values) ? values : [], {}] : s, extension: true, widget: this };
  };
  return widget;
}

export function buttonWidget(node, fields) {
  const widget = new Widget(node, { ...fields, extension: true, serialize: false, options: { ...fields.options, serialize: false } });
  let local = fields.value ?? null;
  Object.defineProperty(widget, "value", { get: () => local, set: (v) => { local = v; } });
  widget.toRow = function toRow() {
    if (this.isHidden()) return null;
    return { name: this.name, kind: "BUTTON", spec: ["BUTTON", {}], extension: true, widget: this,
      draw: (ctx, row, theme, detailed) => drawButton(ctx, row, theme, detailed, this.label ?? this.name),
      press: (event) => node._guard(`button ${this.name}`, () => this.callback?.(this, node._app.canvas, node, [0, 0], event)) };
  };
  return widget;
}

function drawButton(ctx, row, theme, detailed, label) {
  ctx.fillStyle = theme.nodeTitle;
  ctx.beginPath();
  ctx.roundRect(row.x, row.y, row.w, row.h, row.h / 2);
  ctx.fill();
  if (!detailed) return;
  ctx.fillStyle = theme.text;
  ctx.textAlign = "center";
  ctx.fillText(String(label), row.x + row.w / 2, row.y + row.h / 2);
}

/** A row drawn by the widget itself, LiteGraph style: draw(ctx, node, width, y, height) in node space. */
function drawnRow(widget) {
  const node = widget.node;
  const size = typeof widget.computeSize === "function" ? node._guard(`widget ${widget.name}.computeSize`, () => widget.computeSize(node.size[0])) : null;
  const height = Array.isArray(size) && size[1] > 0 ? size[1] : DRAWN_HEIGHT;
  return { name: widget.name, kind: "DRAWN", spec: ["DRAWN", {}], extension: true, widget, height,
    draw: (ctx, row) => {
      if (typeof widget.draw !== "function") return;
      const [x, y] = node._model.pos;
      ctx.translate(x, y);
      widget.last_y = widget.y = row.y - y;
      node._guard(`widget ${widget.name}.draw`, () => widget.draw(ctx, node, row.w + 20, row.y - y, row.h));
    },
    press: (event, graphX) => { // a click; LiteGraph's mouse(event, [x, y] in node space, node)
      node._guard(`widget ${widget.name}.mouse`, () => widget.mouse?.(event, [graphX - node._model.pos[0], widget.y + height / 2], node));
    } };
}

/** `node.addDOMWidget(name, type, element, options)`: an HTML element placed over the node's row. */
export function domWidget(node, name, type, element, options = {}) {
  const widget = new Widget(node, { name, type, options, element, extension: true });
  const stored = typeof options.getValue === "function";
  if (stored && !(name in node._model.widgets)) node._model.widgets[name] = node._guard(`widget ${name}.getValue`, () => options.getValue());
  Object.defineProperty(widget, "value", {
    get() { return stored ? node._guard(`widget ${name}.getValue`, () => options.getValue()) : undefined; },
    set(v) {
      if (typeof options.setValue === "function") node._guard(`widget ${name}.setValue`, () => options.setValue(v));
      if (stored) { node._model.widgets[name] = v; node._touch(); }
    },
  });
  if (!stored) Object.defineProperty(widget, "saved", { value: false });
  widget.onRemove = () => node._app.dom.remove(widget);
  /** Copy the element's value into the node (before saving or queueing). */
  widget.pull = () => { if (stored) node._model.widgets[name] = widget.value; };
  /** Put the node's value into the element (after loading or pasting). */
  widget.push = () => { if (stored && typeof options.setValue === "function") node._guard(`widget ${name}.setValue`, () => options.setValue(node._model.widgets[name])); };
  widget.toRow = function toRow() {
    if (this.isHidden()) return null;
    const number = (f) => { const v = typeof f === "function" ? parseFloat(node._guard(`widget ${name} size`, f)) : NaN; return Number.isFinite(v) && v > 0 ? v : null; };
    const size = typeof this.computeSize === "function" ? node._guard(`widget ${name}.computeSize`, () => this.computeSize(node.size[0])) : null;
    const height = number(options.getHeight) ?? number(options.getMinHeight) ?? (Array.isArray(size) && size[1] > 0 ? size[1] : null) ?? 60;
    return { name, kind: "DOM", spec: ["DOM", {}], extension: true, widget: this, height: Math.min(2000, Math.max(16, height)), draw: () => {} };
  };
  return widget;
}

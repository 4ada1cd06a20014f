// Nodes as ComfyUI extensions see them: one class per node type (the `nodeType` of
// beforeRegisterNodeDef, whose prototype extensions patch) and one instance per NodeFlow node,
// wrapping it: title, pos, size, mode, widgets, inputs/outputs and links read and write the node.
import { nodeToJSON } from "../model/graph.js";
import { inputSpecs, options as specOptions, widgetKind } from "../model/types.js";
import { addedWidget, controlWidget, domWidget, specWidget, uploadWidget, Widget } from "./widget.js";

export const INPUT = 1;   // LiteGraph.INPUT (onConnectionsChange's first argument)
export const OUTPUT = 2;  // LiteGraph.OUTPUT
const MODE_NUMBER = { active: 0, muted: 2, bypassed: 4 }; // LGraphEventMode ALWAYS, NEVER, BYPASS
const MODE_NAME = { 0: "active", 2: "muted", 4: "bypassed" };

// Extensions also assign these on `nodeType.prototype` (e.g. prototype.color in
// beforeRegisterNodeDef): kept as the type's defaults and given to each new node of the type.
export const DEFAULTS = Symbol("nodeflow type defaults");
function setDefault(proto, key, value) {
  if (!Object.prototype.hasOwnProperty.call(proto, DEFAULTS)) proto[DEFAULTS] = { ...(proto[DEFAULTS] || {}) };
  proto[DEFAULTS][key] = value;
}

function unsupported(what) {
  return function () { throw new Error(`${what} is not supported by NodeFlow: a node's sockets come from its definition`); };
}

export class ComfyNode {
  constructor(model, app) {
    Object.defineProperty(this, "_model", { value: model });
    Object.defineProperty(this, "_app", { value: app });
    this.properties = { "Node name for S&R": model.type };
    this.widgets = [];
    this.serialize_widgets = true;
    this.isVirtualNode = false;
    const self = this;
    this.flags = { get collapsed() { return !!self._model.collapsed; }, set collapsed(v) { self._model.collapsed = !!v; self._touch(); } };
  }

  get id() { const n = Number(this._model.id); return Number.isInteger(n) && String(n) === this._model.id ? n : this._model.id; }
  get type() { return this._model.type; }
  get comfyClass() { return this._model.type; }
  get title() { return this._model ? this._model.title ?? this.constructor.title ?? this._model.type : this[DEFAULTS]?.title; }
  set title(v) { if (!this._model) { setDefault(this, "title", v); return; } this._model.title = v == null ? null : String(v); this._touch(); }
  get pos() { return this._model?.pos; }
  set pos(v) { if (this._model) { this._model.pos = [Number(v[0]) || 0, Number(v[1]) || 0]; this._touch(); } }
  get size() { return this._model ? this._model.size : this[DEFAULTS]?.size; }
  set size(v) { if (!this._model) { setDefault(this, "size", v); return; } this._model.size = [Number(v[0]) || 0, Number(v[1]) || 0]; this._touch(); }
  get color() { return this._model ? this._model.color ?? undefined : this[DEFAULTS]?.color; }
  set color(v) { if (!this._model) { setDefault(this, "color", v); return; } this._model.color = v ?? null; this._touch(); }
  get bgcolor() { return this._model ? this._bgcolor ?? this._model.color ?? undefined : this[DEFAULTS]?.bgcolor; }
  set bgcolor(v) {
    if (!this._model) { setDefault(this, "bgcolor", v); return; }
    Object.defineProperty(this, "_bgcolor", { value: v, writable: true, configurable: true });
    if (!this._model.color) this.color = v; // NodeFlow nodes have one colour
  }
  get mode() { return this._model ? MODE_NUMBER[this._model.mode] ?? 0 : undefined; }
  set mode(v) { if (this._model && MODE_NAME[v]) { this._model.mode = MODE_NAME[v]; this._touch(); } }

  /** A new node takes its type's defaults (colour, size, title) set on the prototype. */
  _applyDefaults() {
    const d = this[DEFAULTS];
    if (!d) return;
    if (this._model.color == null && (d.color || d.bgcolor)) this._model.color = d.color || d.bgcolor;
    if (Array.isArray(d.size)) this._model.size = [Number(d.size[0]) || 0, Number(d.size[1]) || 0];
    if (d.title != null && this._model.title == null) this._model.title = String(d.title);
  }
  get graph() { return this._app.graphAdapterOf(this._model); }
  get widgets_values() { return this.widgets.filter((w) => w.saved !== false).map((w) => w.value); }

  /** [{name, type, link, widget?}]: NodeFlow's sockets (widgets converted to inputs carry `widget`). */
  get inputs() {
    const graph = this._app.graphOf(this._model);
    return this._model.inputs.map((input) => {
      const link = graph && graph.linkInto(this._model.id, input.name);
      return { name: input.name, label: input.name, type: input.type, link: link ? link.id : null, ...(input.widget ? { widget: { name: input.name } } : {}) };
    });
  }

  get outputs() {
    const graph = this._app.graphOf(this._model);
    return this._model.outputs.map((output, slot) => ({ name: output.name, label: output.name, type: output.type,
      links: graph ? graph.linksFrom(this._model.id, slot).map((l) => l.id) : [] }));
  }

  _touch() { this._app.touch(this._model); }
  _guard(what, fn) { return this._app.host.guard({ extension: this.type, hook: what }, fn); }
  _specOf(name) { return (inputSpecs(this._app.infoOf(this._model.type) || {}).find((s) => s.name === name) || {}).spec || ["STRING", {}]; }

  addWidget(type, name, value, callback, options) {
    const widget = addedWidget(this, type, name, value, callback, options);
    this.widgets.push(widget);
    this._touch();
    return widget;
  }

  /** A LiteGraph custom widget object ({name, type, value, draw, computeSize, mouse, ...}). */
  addCustomWidget(custom) {
    const value = custom.value;
    const widget = addedWidget(this, custom.type || "custom", custom.name, value, custom.callback, custom.options);
    for (const [key, v] of Object.entries(custom)) if (key !== "value" && key !== "options") widget[key] = v;
    if (custom.draw) widget.draw = custom.draw;
    this.widgets.push(widget);
    this._touch();
    return widget;
  }

  addDOMWidget(name, type, element, options = {}) {
    const widget = domWidget(this, name, type, element, options);
    this.widgets.push(widget);
    this._app.dom.add(widget);
    this._touch();
    return widget;
  }

  removeWidget(widget) {
    const index = this.widgets.indexOf(widget);
    if (index < 0) return;
    this.widgets.splice(index, 1);
    if (widget.element) this._app.dom.remove(widget);
    this._guard(`widget ${widget.name}.onRemove`, () => widget.onRemove?.());
    this._touch();
  }

  setDirtyCanvas() { this._app.redraw(); }
  setSize(size) { this.size = size; this._guard("onResize", () => this.onResize?.(this.size)); }
  getTitle() { return this.title; }
  collapse(force) { this.flags.collapsed = force ?? !this._model.collapsed; }
  serialize() { return nodeToJSON(this._model); }

  computeSize() {
    const layout = this._app.editor.view?.layout?.(this._model);
    return layout ? [layout.w, layout.h] : [...this._model.size];
  }

  setProperty(name, value) {
    const old = this.properties[name];
    this.properties[name] = value;
    this._guard("onPropertyChanged", () => this.onPropertyChanged?.(name, value, old));
  }

  findInputSlot(name) { return this._model.inputs.findIndex((i) => i.name === name); }
  findOutputSlot(name) { return this._model.outputs.findIndex((o) => o.name === name); }
  isInputConnected(slot) { return this.inputs[slot]?.link != null; }
  isOutputConnected(slot) { return (this.outputs[slot]?.links || []).length > 0; }

  getInputLink(slot) {
    const input = this.inputs[slot];
    return input && input.link != null ? this.graph?.links[input.link] ?? null : null;
  }

  getInputNode(slot) {
    const link = this.getInputLink(slot);
    return link ? this.graph.getNodeById(link.origin_id) : null;
  }

  getOutputNodes(slot) {
    const graph = this.graph;
    return graph ? (this.outputs[slot]?.links || []).map((id) => graph.getNodeById(graph.links[id].target_id)).filter(Boolean) : null;
  }
}

ComfyNode.prototype.addInput = unsupported("node.addInput");
ComfyNode.prototype.addOutput = unsupported("node.addOutput");
ComfyNode.prototype.removeInput = unsupported("node.removeInput");
ComfyNode.prototype.removeOutput = unsupported("node.removeOutput");

/** The class extensions receive as `nodeType` for one node definition. */
export function makeNodeType(name, def) {
  const type = class extends ComfyNode {};
  Object.assign(type, { comfyClass: name, ComfyClass: name, type: name, title: def.display_name || name, category: def.category, nodeData: def });
  return type;
}

/**
 * The widgets of a node's inputs, in ComfyUI's order: one per widget input (a seed's
 * control_after_generate and an image combo's upload button after it); an input whose type an
 * extension's getCustomWidgets handles gets that extension's widget instead.
 */
export function addInputWidgets(node, info, custom, nodeflowCustom, makeCustom) {
  for (const { name, spec } of inputSpecs(info)) {
    const opts = specOptions(spec);
    if (typeof spec[0] === "string" && custom.has(spec[0]) && !opts.forceInput) { makeCustom(spec[0], node, name, spec); continue; }
    const kind = widgetKind(spec, nodeflowCustom);
    if (!kind) continue;
    node.widgets.push(specWidget(node, name, spec, kind));
    if (opts.control_after_generate) node.widgets.push(controlWidget(node, name));
    if (opts.image_upload) node.widgets.push(uploadWidget(node, name));
  }
}

export { Widget };

// Element widgets (node.addDOMWidget): HTML elements in #dom-widgets, laid over their node's
// widget row after every frame (the row's height is the widget's), hidden when the node is
// collapsed, in another tab, deleted, or the view is zoomed far out.

export class DomLayer {
  constructor(editor) {
    this.editor = editor;
    this.widgets = new Set();
  }

  get root() { return typeof document === "undefined" ? null : document.getElementById("dom-widgets"); }

  add(widget) {
    this.widgets.add(widget);
    const root = this.root;
    if (root && widget.element instanceof Element) root.append(widget.element);
    this.editor.view?.requestDraw?.();
  }

  remove(widget) {
    this.widgets.delete(widget);
    widget.element?.remove?.();
  }

  /** A deleted node: hide its elements (an undo brings the node and them back). */
  detach(model) {
    for (const w of this.widgets) if (w.node._model === model && w.element?.style) w.element.style.display = "none";
  }

  position() {
    if (!this.widgets.size) return;
    const { state, view } = this.editor;
    const { offset, scale } = state.graph.viewport;
    for (const widget of [...this.widgets]) {
      const el = widget.element;
      if (!el || !el.style) continue;
      if (!widget.node.widgets.includes(widget)) { this.remove(widget); continue; } // dropped from node.widgets
      const model = widget.node._model;
      const layout = state.graph.nodes.get(model.id) === model ? view.layouts.get(model.id) : null;
      if (layout && layout.node !== model) { el.style.display = "none"; continue; } // laid out for a node since replaced
      const row = layout && !layout.collapsed ? layout.widgets.find((r) => r.widget === widget) : null;
      if (!row || (widget.options.hideOnZoom !== false && scale < 0.4)) { el.style.display = "none"; continue; }
      el.style.display = "";
      el.style.width = `${row.w}px`;
      el.style.height = `${row.h}px`;
      el.style.transform = `translate(${(row.x + offset[0]) * scale}px, ${(row.y + offset[1]) * scale}px) scale(${scale})`;
    }
  }
}

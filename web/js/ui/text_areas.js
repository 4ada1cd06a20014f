// Prompt boxes: every multiline STRING widget in view is a real <textarea> laid over its row after
// each frame and at the end of every edit (CanvasView.syncOverlays) (wrapping, scrolling, the row's size, the view's zoom). Typing is one undoable edit per
// focus; Ctrl+Enter queues, Ctrl+Shift+Enter queues at the front. Far out, covered by another node
// or collapsed, the canvas draws the text instead (render/canvas.js drawTextBox).

const MIN_SCALE = 0.45; // below this zoom the text is too small to edit: the canvas draws it

export class TextAreaLayer {
  constructor(app, root) {
    this.app = app;
    this.root = root;
    this.areas = new Map(); // "node\0widget" -> {el, graph, nodeId, name}
    this.sessions = 0;
    app.view.overlayers.push(() => this.follow());
  }

  /** The textarea of a node's widget, when one is shown. */
  element(nodeId, name) {
    const area = this.areas.get(`${nodeId}\u0000${name}`);
    return area && area.el.style.display !== "none" ? area.el : null;
  }

  follow() {
    const { graph } = this.app.state;
    const view = this.app.view;
    const { offset, scale } = graph.viewport;
    const seen = new Set();
    if (scale >= MIN_SCALE) {
      let order = null; // z-order, built only when a prompt box is in view
      for (const node of view.textNodes) { // the nodes with prompt boxes the last frame drew (in view, expanded)
        const L = view.layouts.get(node.id);
        if (graph.nodes.get(node.id) !== node || !L || L.node !== node) continue; // gone or replaced since that frame
        if (!L.texts || !L.texts.length || L.collapsed) continue;
        if (!order) { order = [...graph.nodes.keys()]; order.index = new Map(order.map((id, i) => [id, i])); }
        for (const row of L.texts) {
          if (covered(row, order, order.index.get(node.id) + 1, view.layouts)) continue;
          const key = `${node.id}\u0000${row.name}`;
          seen.add(key);
          this.place(this.area(key, node, row.name), node, row, offset, scale);
        }
      }
    }
    for (const [key, area] of this.areas) {
      if (seen.has(key)) continue;
      if (area.graph === graph && graph.nodes.has(area.nodeId) && document.activeElement !== area.el) { area.el.style.display = "none"; continue; }
      if (document.activeElement === area.el) area.el.blur();
      area.el.remove();
      this.areas.delete(key);
    }
  }

  area(key, node, name) {
    const graph = this.app.state.graph;
    let area = this.areas.get(key);
    if (area && area.graph !== graph) { area.el.remove(); area = null; }
    if (area) return area;
    const el = document.createElement("textarea");
    el.className = "text-widget";
    el.dataset.node = node.id;
    el.dataset.widget = name;
    el.placeholder = name;
    el.spellcheck = false;
    area = { el, graph, nodeId: node.id, name, session: null };
    this.bind(area);
    this.root.append(el);
    this.areas.set(key, area);
    return area;
  }

  place(area, node, row, offset, scale) {
    const el = area.el;
    const value = String(node.widgets[row.name] ?? "");
    if (document.activeElement !== el && el.value !== value) el.value = value;
    el.style.display = "";
    el.style.width = `${row.w}px`;
    el.style.height = `${row.h}px`;
    el.style.transform = `translate(${(row.x + offset[0]) * scale}px, ${(row.y + offset[1]) * scale}px) scale(${scale})`;
  }

  bind(area) {
    const app = this.app;
    const el = area.el;
    el.addEventListener("focus", () => {
      area.session = `text-${++this.sessions}`;
      app.state.selection = new Set([area.nodeId]);
      app.view.requestDraw();
    });
    el.addEventListener("pointerdown", () => app.closeOverlays());
    el.addEventListener("input", () => {
      const node = app.state.graph.nodes.get(area.nodeId);
      if (node && area.graph === app.state.graph && node.widgets[area.name] !== el.value) app.widgets.set(area.nodeId, area.name, el.value, area.session);
    });
    el.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        app.queue(null, e.shiftKey ? { front: true } : {});
      } else if (e.key === "Escape") el.blur();
    });
    // the wheel zooms the canvas unless the text itself can scroll (Ctrl+wheel always zooms)
    el.addEventListener("wheel", (e) => {
      const scrolls = el.scrollHeight > el.clientHeight + 1;
      if (!scrolls || e.ctrlKey) app.interaction.wheel(e);
    }, { passive: false });
  }
}

/** Whether a node drawn above (later in z-order) overlaps `row`. */
function covered(row, order, from, layouts) {
  for (let i = from; i < order.length; i++) {
    const L = layouts.get(order[i]);
    if (L && L.x < row.x + row.w && L.x + L.w > row.x && L.y < row.y + row.h && L.y + L.h > row.y) return true;
  }
  return false;
}

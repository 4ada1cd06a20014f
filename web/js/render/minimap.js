// The minimap: the whole graph scaled into a small canvas, with the visible area outlined.
// It only draws; `toGraph` maps a point on it back to graph coordinates for the input layer.

export class Minimap {
  constructor(canvas, view) {
    this.canvas = canvas;
    this.view = view; // the main CanvasView (state, layouts, theme)
    this.ctx = canvas.getContext("2d");
    this.frame = null; // {x, y, scale}: graph -> minimap transform of the last draw
    this.hold = false; // keep the transform while the user drags on the minimap
  }

  get visible() { return !this.canvas.hidden; }

  bounds() {
    const state = this.view.state;
    const v = this.view.visibleRect();
    let [x1, y1, x2, y2] = [v.x, v.y, v.x + v.w, v.y + v.h];
    const add = (x, y, w, h) => { x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + w); y2 = Math.max(y2, y + h); };
    for (const node of state.graph.nodes.values()) {
      const L = this.view.layouts.get(node.id);
      if (L) add(L.x, L.y, L.w, L.h); else add(node.pos[0], node.pos[1], node.size[0], node.size[1]);
    }
    for (const group of state.graph.groups) add(...group.bounding);
    return { x: x1 - 40, y: y1 - 40, w: x2 - x1 + 80, h: y2 - y1 + 80 };
  }

  /** Called after every frame of the main canvas; redraws at most every `interval` ms. */
  draw(interval = 100) {
    if (!this.visible) return;
    const now = performance.now();
    if (this.last && now - this.last < interval) {
      if (!this.pending) this.pending = setTimeout(() => { this.pending = null; this.draw(0); }, interval);
      return;
    }
    this.last = now;
    this.paint();
  }

  paint() {
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth: W, clientHeight: H } = this.canvas;
    if (this.canvas.width !== Math.round(W * ratio)) { this.canvas.width = Math.round(W * ratio); this.canvas.height = Math.round(H * ratio); }
    const ctx = this.ctx;
    const theme = this.view.theme;
    const state = this.view.state;
    if (!this.hold || !this.frame) {
      const b = this.bounds();
      const fit = Math.min(W / b.w, H / b.h);
      this.frame = { x: b.x - (W - b.w * fit) / 2 / fit, y: b.y - (H - b.h * fit) / 2 / fit, scale: fit };
    }
    const scale = this.frame.scale;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, W, H);
    ctx.setTransform(ratio * scale, 0, 0, ratio * scale, -ratio * scale * this.frame.x, -ratio * scale * this.frame.y);
    ctx.globalAlpha = 0.3;
    for (const group of state.graph.groups) { ctx.fillStyle = group.color || "#3f789e"; ctx.fillRect(...group.bounding); }
    ctx.globalAlpha = 1;
    for (const node of state.graph.nodes.values()) {
      const L = this.view.layouts.get(node.id);
      ctx.fillStyle = state.selection.has(node.id) ? theme.selected : node.color || theme.dim;
      if (L) ctx.fillRect(L.x, L.y, L.w, L.h); else ctx.fillRect(node.pos[0], node.pos[1], node.size[0], node.size[1]);
    }
    const v = this.view.visibleRect();
    ctx.strokeStyle = theme.selected;
    ctx.lineWidth = 2 / scale;
    ctx.strokeRect(v.x, v.y, v.w, v.h);
  }

  /** Graph point under minimap client point (clientX, clientY). */
  toGraph(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const f = this.frame || { x: 0, y: 0, scale: 1 };
    return [f.x + (clientX - rect.left) / f.scale, f.y + (clientY - rect.top) / f.scale];
  }
}

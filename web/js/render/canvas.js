// The renderer: draws the graph on a <canvas>. It never changes the graph; while drawing it records
// each node's layout and which slots are linked (layouts, linkedIn, linkedOut), which hit-testing reads.
import { effectiveInfo } from "../model/editor_nodes.js";
import { typeColor, typesMatch } from "../model/types.js";
import { drawGroup } from "./groups.js";
import { drawImageSet } from "./image_grid.js";
import { nodeImages, pagerIndex } from "./node_images.js";
import { drawMarkdown, parseMarkdown } from "./markdown.js";
import { keepClear } from "./preview_room.js";
import { TITLE_H, linkHandle, nodeLayout } from "./layout.js";
import { clip, dot, drawFit, roundRect, widgetText, wrapText } from "./paint.js";

export const THEMES = {
  dark: { background: "#1b1c1f", grid: "#25272b", node: "#2b2d31", nodeTitle: "#35383e", text: "#e4e4e4", dim: "#9a9ca3",
    widget: "#222428", selected: "#f0f0f0", executing: "#4caf50", error: "#ff5252", muted: "#55575c", bypassed: "#7a4fa8",
    note: "#4a4326", noteText: "#f3e9c6", noteLink: "#9cc9ff", slotHole: "#1b1c1f" },
  light: { background: "#f4f5f7", grid: "#e2e4e8", node: "#ffffff", nodeTitle: "#dde1e8", text: "#1d1f23", dim: "#5c6069",
    widget: "#eef0f3", selected: "#1d4ed8", executing: "#2e7d32", error: "#d32f2f", muted: "#b0b3b9", bypassed: "#c7a8ec",
    note: "#fff4c2", noteText: "#3b3521", noteLink: "#1f5fbf", slotHole: "#ffffff", linkShade: 0.72 },
};
let THEME = THEMES.dark;

export class CanvasView {
  constructor(canvas, state) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.state = state; // {graph, objectInfo, selection, runtime, drag}
    this.layouts = new Map();
    this.frameRequested = false;
    this.frames = 0;
    this.images = new Map(); // url -> HTMLImageElement
    this.linkStyle = "spline"; // or "straight"
    this.nodeIds = false; // draw "#id" badges in title bars (setting)
    this.theme = THEME;
    this.afterDraw = null; // called after each frame (the minimap)
    this.overlayers = []; // DOM layers that follow the view (prompt boxes, editors, plugin elements): see syncOverlays
    this.overlaySyncQueued = false;
    this.textNodes = []; // nodes drawn this frame that have prompt boxes (for text_areas.js)
    this.noteLinks = new Map(); // node id -> links drawn in its markdown [{href, x, y, w, h}] (graph units)
  }

  setTheme(name) {
    THEME = THEMES[name] || THEMES.dark;
    this.theme = THEME;
    this.requestDraw();
  }

  get view() { return this.state.graph.viewport; }

  toGraph(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const { offset, scale } = this.view;
    return [(clientX - rect.left) / scale - offset[0], (clientY - rect.top) / scale - offset[1]];
  }

  toScreen(gx, gy) {
    const rect = this.canvas.getBoundingClientRect();
    const { offset, scale } = this.view;
    return [(gx + offset[0]) * scale + rect.left, (gy + offset[1]) * scale + rect.top];
  }

  layout(node) {
    const runtime = this.state.runtime;
    const info = effectiveInfo(this.state.graph, node, this.state.objectInfo);
    const extras = { hasImage: !!(nodeImages(this.state, node, info) || runtime.previews.get(node.id)), hasText: !!runtime.texts.get(node.id) };
    let layout = nodeLayout(node, info, extras, this.state.graph.customWidgets);
    if (layout.image) layout = keepClear(layout, node, this.state.graph, this.layouts); // never cover a neighbour
    layout.node = node; // which node object it was made for (a loaded workflow reuses ids)
    this.layouts.set(node.id, layout);
    return layout;
  }

  /** A node's layout as of now: the last frame's when it was made for this very node at its position, else a new one
   * (a workflow loaded or a node added reuses ids, and until the next frame the old node's box would answer clicks). */
  layoutOf(node) {
    const L = this.layouts.get(node.id);
    return L && L.node === node && L.x === node.pos[0] && L.y === node.pos[1] ? L : this.layout(node);
  }

  requestDraw() {
    this.syncOverlaysSoon();
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => { this.frameRequested = false; this.draw(); });
  }

  /** DOM layers follow at the end of the current task too, not only after the next frame: an element of a node
   * that was removed, replaced (a workflow loaded) or in another tab must never catch the next click
   * (a double-click whose first click hit a stale prompt box was lost). */
  syncOverlaysSoon() {
    if (this.overlaySyncQueued) return;
    this.overlaySyncQueued = true;
    queueMicrotask(() => { this.overlaySyncQueued = false; this.syncOverlays(); });
  }

  syncOverlays() {
    for (const follow of this.overlayers) follow();
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth, clientHeight } = this.canvas;
    if (this.canvas.width !== Math.round(clientWidth * ratio) || this.canvas.height !== Math.round(clientHeight * ratio)) {
      this.canvas.width = Math.round(clientWidth * ratio);
      this.canvas.height = Math.round(clientHeight * ratio);
    }
    return ratio;
  }

  draw() {
    this.frames += 1;
    const ratio = this.resize();
    const ctx = this.ctx;
    const { offset, scale } = this.view;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = THEME.background;
    ctx.fillRect(0, 0, this.canvas.clientWidth, this.canvas.clientHeight);
    ctx.setTransform(ratio * scale, 0, 0, ratio * scale, ratio * scale * offset[0], ratio * scale * offset[1]);
    const visible = this.visibleRect();
    this.drawGrid(visible);
    for (const group of this.state.graph.groups) {
      const [gx, gy, gw, gh] = group.bounding;
      if (gx > visible.x + visible.w || gy > visible.y + visible.h || gx + gw < visible.x || gy + gh < visible.y) continue;
      drawGroup(ctx, group, THEME, this.state.selectedGroup === group.id, scale);
    }
    const layouts = [];
    for (const node of this.state.graph.nodes.values()) layouts.push([node, this.layout(node)]);
    this.textNodes = [];
    this.noteLinks = new Map();
    // Which slots are linked, indexed once per frame (looking each up in the link list is O(n²)).
    this.linkedIn = new Map(); // "node\0input" -> the link into it
    this.linkedOut = new Set();
    for (const link of this.state.graph.links.values()) {
      this.linkedIn.set(`${link.to[0]}\u0000${link.to[1]}`, link);
      this.linkedOut.add(`${link.from[0]}\u0000${link.from[1]}`);
    }
    this.detailed = scale >= 0.45;
    const drag = this.state.drag;
    const detached = drag && drag.kind === "link" ? drag.detach : undefined;
    for (const link of this.state.graph.links.values()) if (link.id !== detached) this.drawLink(link, visible);
    if (drag && drag.kind === "link") this.drawDragLink(drag);
    else if (this.state.pendingLink) this.drawDragLink(this.state.pendingLink); // a dropped link while its search box is open
    for (const [node, layout] of layouts) {
      if (layout.x > visible.x + visible.w || layout.y > visible.y + visible.h || layout.x + layout.w < visible.x || layout.y + layout.h < visible.y) continue;
      this.drawNode(node, layout);
    }
    if (drag && drag.kind === "select") this.drawSelection(drag);
    if (this.afterDraw) this.afterDraw();
    this.syncOverlays();
  }

  visibleRect() {
    const { offset, scale } = this.view;
    return { x: -offset[0], y: -offset[1], w: this.canvas.clientWidth / scale, h: this.canvas.clientHeight / scale };
  }

  drawGrid(v) {
    const ctx = this.ctx;
    const step = 40;
    if (this.view.scale < 0.4) return;
    ctx.strokeStyle = THEME.grid;
    ctx.lineWidth = 1 / this.view.scale;
    ctx.beginPath();
    for (let x = Math.floor(v.x / step) * step; x < v.x + v.w; x += step) { ctx.moveTo(x, v.y); ctx.lineTo(x, v.y + v.h); }
    for (let y = Math.floor(v.y / step) * step; y < v.y + v.h; y += step) { ctx.moveTo(v.x, y); ctx.lineTo(v.x + v.w, y); }
    ctx.stroke();
  }

  curve(x1, y1, x2, y2, color, width = 3) {
    const ctx = this.ctx;
    const dx = Math.max(40, Math.abs(x2 - x1) * 0.5);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    if (this.linkStyle === "straight") ctx.lineTo(x2, y2);
    else ctx.bezierCurveTo(x1 + dx, y1, x2 - dx, y2, x2, y2);
    ctx.stroke();
  }

  slotPoint(nodeId, side, key) {
    const node = this.state.graph.nodes.get(nodeId);
    if (!node) return null;
    const layout = this.layoutOf(node);
    if (layout.collapsed) return side === "out" ? [layout.x + layout.w, layout.y + TITLE_H / 2] : [layout.x, layout.y + TITLE_H / 2];
    const slot = side === "out" ? layout.outputs[key] : layout.inputs.find((i) => i.name === key);
    return slot ? [slot.x, slot.y] : null;
  }

  drawLink(link, visible) {
    const a = this.slotPoint(link.from[0], "out", link.from[1]);
    const b = this.slotPoint(link.to[0], "in", link.to[1]);
    if (!a || !b) return;
    const color = this.linkColor(link.type);
    this.curve(a[0], a[1], b[0], b[1], color);
    if (!this.detailed) return;
    const handle = linkHandle(a, b); // the dot that opens the link menu (reroute, delete); none on short links
    if (!handle) return;
    const [mx, my] = handle;
    if (mx < visible.x || my < visible.y || mx > visible.x + visible.w || my > visible.y + visible.h) return;
    dot(this.ctx, mx, my, 4, color, true, THEME.slotHole);
  }

  /** A link's colour: the type's, darkened on the light theme so pale types (CLIP yellow) stay visible. */
  linkColor(type) {
    const color = typeColor(type);
    return THEME.linkShade ? shade(color, THEME.linkShade) : color;
  }

  drawDragLink(drag) {
    const [gx, gy] = drag.pointer;
    const start = drag.fromOutput ? this.slotPoint(drag.nodeId, "out", drag.slot) : this.slotPoint(drag.nodeId, "in", drag.input);
    if (!start) return;
    if (drag.fromOutput) this.curve(start[0], start[1], gx, gy, typeColor(drag.type), 2);
    else this.curve(gx, gy, start[0], start[1], typeColor(drag.type), 2);
  }

  drawSelection(drag) {
    const ctx = this.ctx;
    const [x1, y1] = drag.start;
    const [x2, y2] = drag.pointer;
    ctx.strokeStyle = "#8ab4f8";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1 / this.view.scale;
    ctx.strokeRect(Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1));
    ctx.setLineDash([]);
  }

  drawNode(node, L) {
    const ctx = this.ctx;
    if (L.reroute) return this.drawReroute(node, L);
    const runtime = this.state.runtime;
    const selected = this.state.selection.has(node.id);
    const error = runtime.errors.get(node.id);
    const executing = runtime.executing === node.id;
    ctx.save();
    if (node.mode === "muted") ctx.globalAlpha = 0.45;
    ctx.fillStyle = node.mode === "bypassed" ? THEME.bypassed : THEME.node;
    roundRect(ctx, L.x, L.y, L.w, L.h, 8);
    ctx.fill();
    ctx.fillStyle = node.color || THEME.nodeTitle;
    roundRect(ctx, L.x, L.y, L.w, TITLE_H, L.collapsed ? 8 : [8, 8, 0, 0]);
    ctx.fill();
    ctx.textBaseline = "middle";
    const info = effectiveInfo(this.state.graph, node, this.state.objectInfo); // subgraph instances too
    const title = (info && info.subgraph ? "⊞ " : "") + (node.title || (info && info.display_name) || node.type);
    let room = L.w - (L.thumb ? 62 : 34);
    if (this.nodeIds && this.detailed) room -= this.drawIdBadge(node, L);
    if (this.detailed) drawCollapseToggle(ctx, L, THEME.dim);
    ctx.fillStyle = node.color ? "#f4f4f4" : THEME.text; // node colours are dark in both themes
    ctx.font = "600 14px system-ui, sans-serif";
    ctx.fillText(clip(ctx, title, room), L.x + 24, L.y + TITLE_H / 2);
    const progress = runtime.progress.get(node.id);
    if (progress && progress.max > 0) {
      ctx.fillStyle = THEME.executing;
      ctx.fillRect(L.x, L.y + TITLE_H - 3, L.w * Math.min(1, progress.value / progress.max), 3);
    }
    if (!L.collapsed) {
      if (L.texts && L.texts.length) this.textNodes.push(node);
      this.drawSlots(node, L);
      this.drawWidgets(node, L);
      this.drawOutputs(node, L);
      if (this.detailed && !L.note && !node.pinned) drawResizeGrip(ctx, L, THEME.muted);
    }
    if (node.pinned && this.detailed) drawPin(ctx, L, THEME.dim);
    const outline = error ? THEME.error : executing ? THEME.executing : selected ? THEME.selected : null;
    if (outline) {
      ctx.strokeStyle = outline;
      ctx.lineWidth = error || executing ? 3 : 2;
      roundRect(ctx, L.x - 2, L.y - 2, L.w + 4, L.h + 4, 10);
      ctx.stroke();
    }
    if (error) {
      ctx.fillStyle = THEME.error;
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "top";
      wrapText(ctx, error, L.x, L.y + L.h + 8, Math.max(L.w, 260), 15, 4);
    }
    ctx.restore();
  }

  /** "#id" at the right of the title bar; returns the width it took. */
  drawIdBadge(node, L) {
    const ctx = this.ctx;
    ctx.font = "600 11px system-ui, sans-serif";
    const text = `#${node.id}`;
    const w = ctx.measureText(text).width + 10;
    const right = L.x + L.w - (L.thumb ? 40 : 6); // left of a title-bar thumbnail
    ctx.fillStyle = THEME.background;
    roundRect(ctx, right - w, L.y + 6, w, TITLE_H - 12, 4);
    ctx.fill();
    ctx.fillStyle = THEME.dim;
    ctx.textAlign = "right";
    ctx.fillText(text, right - 5, L.y + TITLE_H / 2);
    ctx.textAlign = "left";
    return w + 6;
  }

  drawSlots(node, L) {
    const ctx = this.ctx;
    const drag = this.state.drag;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const input of L.inputs) {
      const linked = this.linkedIn.has(`${node.id}\u0000${input.name}`);
      const glow = drag && drag.kind === "link" && drag.fromOutput && !drag.relink && drag.nodeId !== node.id && typesMatch(drag.type, input.type);
      dot(ctx, input.x, input.y, glow ? 7 : 5, typeColor(input.type), linked || glow, THEME.slotHole);
      if (!this.detailed) continue;
      ctx.fillStyle = THEME.dim;
      ctx.fillText(input.name, input.x + 12, input.y);
    }
    ctx.textAlign = "right";
    for (const output of L.outputs) {
      const glow = drag && drag.kind === "link" && (!drag.fromOutput || drag.relink) && drag.nodeId !== node.id && typesMatch(output.type, drag.type);
      dot(ctx, output.x, output.y, glow ? 7 : 5, typeColor(output.type), this.linkedOut.has(`${node.id}\u0000${output.slot}`) || glow, THEME.slotHole);
      if (!this.detailed) continue;
      ctx.fillStyle = THEME.dim;
      ctx.fillText(output.name, output.x - 12, output.y);
    }
    ctx.textAlign = "left";
  }

  drawWidgets(node, L) {
    const ctx = this.ctx;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const row of L.widgets) {
      if (row.note) { this.drawNoteText(node, row); continue; }
      if (row.draw) { ctx.save(); row.draw(ctx, row, THEME, this.detailed); ctx.restore(); continue; } // extension rows
      if (row.text) { this.drawTextBox(node, row); continue; }
      const linked = this.linkedIn.has(`${node.id}\u0000${row.name}`);
      ctx.fillStyle = THEME.widget;
      if (!this.detailed) { ctx.fillRect(row.x, row.y, row.w, row.h); continue; }
      roundRect(ctx, row.x, row.y, row.w, row.h, row.h / 2);
      ctx.fill();
      const mid = row.y + row.h / 2;
      const custom = row.kind === "CUSTOM" && this.state.graph.customWidgets.get(row.spec[0]);
      const [label, value] = custom ? [row.name, String(custom.format ? custom.format(node.widgets[row.name]) : node.widgets[row.name])]
        : widgetText(node, row);
      ctx.fillStyle = linked ? THEME.muted : THEME.dim;
      ctx.fillText(label, row.x + 12, mid);
      ctx.fillStyle = THEME.text;
      ctx.textAlign = "right";
      const room = row.w - ctx.measureText(label).width - 40;
      ctx.fillText(clip(ctx, value, room), row.x + row.w - 12, mid);
      ctx.textAlign = "left";
      if (row.kind === "INT" || row.kind === "FLOAT" || row.kind === "COMBO") { // steppers (ui/widgets.js click)
        ctx.fillStyle = THEME.dim;
        ctx.fillText("‹", row.x + 4, mid);
        ctx.fillText("›", row.x + row.w - 8, mid);
      }
    }
  }

  /** A multiline STRING row: its wrapped text in a box (the editable textarea lies over it when in view). */
  drawTextBox(node, row) {
    const ctx = this.ctx;
    ctx.fillStyle = THEME.widget;
    if (!this.detailed) { ctx.fillRect(row.x, row.y, row.w, row.h); return; }
    roundRect(ctx, row.x, row.y, row.w, row.h, 6);
    ctx.fill();
    const text = String(node.widgets[row.name] ?? "");
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.fillStyle = text ? THEME.text : THEME.dim;
    let room = Math.max(1, Math.floor((row.h - 8) / 15));
    let line = 0;
    for (const para of (text || row.name).split("\n")) {
      if (room <= 0) break;
      const used = para ? wrapText(ctx, para, row.x + 6, row.y + 5 + line * 15, row.w - 12, 15, room) : 1;
      line += used;
      room -= used;
    }
    ctx.textBaseline = "middle";
  }

  drawReroute(node, L) {
    const ctx = this.ctx;
    const feed = this.linkedIn.get(`${node.id}\u0000input`); // its type is the source's (set when connected)
    const type = feed ? feed.type : "*";
    ctx.fillStyle = THEME.node;
    roundRect(ctx, L.x, L.y, L.w, L.h, L.h / 2);
    ctx.fill();
    ctx.strokeStyle = this.state.selection.has(node.id) ? THEME.selected : typeColor(type);
    ctx.lineWidth = 2;
    ctx.stroke();
    const linkedIn = !!feed;
    dot(ctx, L.inputs[0].x, L.inputs[0].y, 5, typeColor(type), linkedIn, THEME.slotHole);
    dot(ctx, L.outputs[0].x, L.outputs[0].y, 5, typeColor(type), this.linkedOut.has(`${node.id}\u00000`), THEME.slotHole);
  }

  drawNoteText(node, row) {
    const ctx = this.ctx;
    ctx.fillStyle = node.bgcolor || THEME.note; // a note's own colour (ComfyUI's #653) is dark: light text on it
    ctx.fillRect(row.x, row.y, row.w, row.h);
    const textColor = node.bgcolor ? "#f3e9c6" : THEME.noteText;
    const text = String(node.widgets[row.name] ?? "");
    if (node.type === "MarkdownNote") {
      ctx.save();
      ctx.beginPath();
      ctx.rect(row.x, row.y, row.w, row.h);
      ctx.clip();
      const box = { x: row.x + 8, y: row.y + 6, w: row.w - 16, h: row.h - 12 };
      const colors = { text: textColor, link: node.bgcolor ? "#9cc9ff" : THEME.noteLink, muted: THEME.muted };
      this.noteLinks.set(node.id, drawMarkdown(ctx, parseMarkdown(text), box, colors));
      ctx.restore();
      return;
    }
    ctx.fillStyle = textColor;
    ctx.font = "13px system-ui, sans-serif";
    ctx.textBaseline = "top";
    let room = Math.max(1, Math.floor((row.h - 12) / 17));
    let line = 0;
    for (const para of text.split("\n")) {
      if (room <= 0) break;
      const used = para ? wrapText(ctx, para, row.x + 8, row.y + 6 + line * 17, row.w - 16, 17, room) : 1;
      line += used;
      room -= used;
    }
    ctx.textBaseline = "middle";
  }

  drawOutputs(node, L) {
    if (!L.image && !L.thumb) return;
    const ctx = this.ctx;
    const runtime = this.state.runtime;
    const text = runtime.texts.get(node.id);
    const urls = nodeImages(this.state, node, effectiveInfo(this.state.graph, node, this.state.objectInfo));
    const preview = runtime.previews.get(node.id);
    const index = urls ? pagerIndex(runtime, node.id, urls) : -1;
    if (L.thumb) { // no room below: a thumbnail in the title bar
      const img = urls && this.image(urls[Math.max(0, index)]);
      if (preview && (runtime.executing === node.id || !urls)) drawFit(ctx, preview, L.thumb);
      else if (img && img.complete && img.naturalWidth) drawFit(ctx, img, L.thumb);
      return;
    }
    if (preview && runtime.executing === node.id) return drawFit(ctx, preview, L.image);
    if (urls) return drawImageSet(ctx, L.image, urls, index, (url) => this.image(url), THEME);
    if (preview) return drawFit(ctx, preview, L.image);
    if (text) {
      ctx.fillStyle = THEME.widget;
      ctx.fillRect(L.image.x, L.image.y, L.image.w, L.image.h);
      ctx.fillStyle = THEME.text;
      ctx.font = "12px ui-monospace, monospace";
      ctx.textBaseline = "top";
      wrapText(ctx, text, L.image.x + 6, L.image.y + 6, L.image.w - 12, 15, Math.floor(L.image.h / 15));
    }
  }

  image(url) {
    let img = this.images.get(url);
    if (!img) {
      img = new Image();
      img.addEventListener("load", () => this.requestDraw());
      img.src = url;
      this.images.set(url, img);
    }
    return img;
  }
}

/** The ▾/▸ at the left of a title bar (a click on it collapses or expands the node). */
function drawCollapseToggle(ctx, L, color) {
  const cx = L.x + 12;
  const cy = L.y + TITLE_H / 2;
  ctx.fillStyle = color;
  ctx.beginPath();
  if (L.collapsed) { ctx.moveTo(cx - 3, cy - 5); ctx.lineTo(cx + 4, cy); ctx.lineTo(cx - 3, cy + 5); } else { ctx.moveTo(cx - 5, cy - 3); ctx.lineTo(cx + 5, cy - 3); ctx.lineTo(cx, cy + 4); }
  ctx.closePath();
  ctx.fill();
}

/** Two short diagonal strokes in the bottom-right corner: where a drag resizes the node. */
/** A pinned node's mark: a pin head and needle at the right of its title bar. */
function drawPin(ctx, L, color) {
  const x = L.x + L.w - 14;
  const y = L.y + TITLE_H / 2 - 3;
  ctx.fillStyle = color;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x, y, 3.5, 0, Math.PI * 2);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(x, y + 3); ctx.lineTo(x, y + 10);
  ctx.stroke();
}

function drawResizeGrip(ctx, L, color) {
  const x = L.x + L.w - 3;
  const y = L.y + L.h - 3;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x - 10, y); ctx.lineTo(x, y - 10);
  ctx.moveTo(x - 5, y); ctx.lineTo(x, y - 5);
  ctx.stroke();
}

const SHADES = new Map();
/** `#rrggbb` scaled towards black by `factor` (cached). */
function shade(color, factor) {
  const key = color + factor;
  let out = SHADES.get(key);
  if (!out) {
    const n = parseInt(color.slice(1), 16);
    const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * factor).toString(16).padStart(2, "0"));
    out = /^#[0-9a-f]{6}$/i.test(color) ? `#${c.join("")}` : color;
    SHADES.set(key, out);
  }
  return out;
}

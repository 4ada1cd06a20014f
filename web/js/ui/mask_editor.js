// The mask editor (ComfyUI's "Open in MaskEditor"): paint or erase a mask over a node's image with
// a brush of some size, hardness and opacity; invert, clear, undo/redo inside the editor, zoom and
// pan. Saving uploads the mask through /upload/mask: the server writes a new PNG in input/ whose
// alpha is the mask (transparent = masked, as LoadImage reads it: MASK = 1 - alpha), and the node's
// image widget takes its name (a Load Image node is added beside output images).
//
// Mouse: left paints (erases with the eraser), wheel zooms at the pointer, middle/right button or
// Space+drag pans. Keys: B brush, E eraser, X swap, [ ] size, I invert, Ctrl+Z / Ctrl+Y undo/redo,
// + - zoom, 0 fit, Enter save, Escape cancel. Keys never reach the graph while the editor is open.
import { addNode } from "../model/commands.js";
import { effectiveInfo } from "../model/editor_nodes.js";
import { refFromUrl, refValue, stemOf } from "../model/image_refs.js";
import { currentImage, uploadWidget } from "../render/node_images.js";

const MAX_UNDO = 40;
const TINT = "rgb(255, 56, 120)";

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${url}`));
    img.src = url;
  });
}

function canvas(w, h, className) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  if (className) c.className = className;
  return c;
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Open the editor on the image `node` shows; resolves to the editor (null when there is none). */
export async function openMaskEditor(app, node) {
  const info = effectiveInfo(app.state.graph, node, app.state.objectInfo);
  const url = currentImage(app.state, node, info);
  const ref = url && refFromUrl(url);
  if (!ref) { app.toast("This node shows no image file to mask", "warning"); return null; }
  const editor = new MaskEditor(app, url, ref, (saved) => useMask(app, node, info, saved));
  try {
    await editor.open();
  } catch (err) {
    editor.close();
    app.toast(`The mask editor could not open the image: ${err.message}`, "error");
    return null;
  }
  return editor;
}

/** The saved file goes into the node's image widget, or into a new Load Image node beside it. */
function useMask(app, node, info, saved) {
  const value = refValue(saved);
  const name = uploadWidget(info);
  if (name && app.state.graph.nodes.has(node.id)) { app.widgets.set(node.id, name, value); return; }
  const L = app.view.layoutOf(node);
  const load = app.state.graph.makeNode("LoadImage", app.state.objectInfo.LoadImage, [L.x + L.w + 40, L.y]);
  load.widgets.image = value;
  app.run(addNode(load));
  app.state.selection = new Set([load.id]);
  app.extensionHost.nodeCreated(load);
}

export class MaskEditor {
  constructor(app, url, ref, onSaved) {
    this.app = app;
    this.url = url;
    this.ref = ref;
    this.onSaved = onSaved;
    this.tool = "brush";
    this.hardness = 0.8;
    this.opacity = 1;
    this.undoStack = [];
    this.redoStack = [];
    this.view = { scale: 1, x: 0, y: 0 };
    this.onKey = (e) => this.key(e);
    this.onKeyUp = (e) => { if (e.key === " ") this.space = false; };
  }

  async open() {
    this.build();
    const [rgb, alpha] = await Promise.all([loadImage(`${this.url}&channel=rgb`), loadImage(`${this.url}&channel=a`)]);
    const [w, h] = [rgb.naturalWidth, rgb.naturalHeight];
    Object.assign(this, { w, h });
    this.imageCanvas = canvas(w, h, "mask-image");
    this.imageCanvas.getContext("2d").drawImage(rgb, 0, 0);
    this.overlay = canvas(w, h, "mask-overlay");
    this.overlayCtx = this.overlay.getContext("2d");
    this.mask = canvas(w, h);
    this.maskCtx = this.mask.getContext("2d", { willReadFrequently: true });
    this.stroke = canvas(w, h);
    this.strokeCtx = this.stroke.getContext("2d");
    const read = canvas(w, h).getContext("2d", { willReadFrequently: true }); // the image's alpha -> the mask
    read.drawImage(alpha, 0, 0);
    const data = read.getImageData(0, 0, w, h);
    for (let i = 0; i < data.data.length; i += 4) {
      const masked = 255 - data.data[i];
      data.data[i] = data.data[i + 1] = data.data[i + 2] = 255;
      data.data[i + 3] = masked;
    }
    this.maskCtx.putImageData(data, 0, 0);
    this.layer.append(this.imageCanvas, this.overlay);
    this.size = Math.max(2, Math.round(Math.min(w, h) / 8));
    this.controls.size.max = String(Math.max(8, Math.round(Math.max(w, h) / 2)));
    this.syncControls();
    this.fit();
    this.render();
    this.app.maskEditor = this;
    return this;
  }

  // --- the DOM ------------------------------------------------------------------------------
  build() {
    const button = (label, title, run, cls = "") => {
      const b = el("button", { textContent: label, title, className: cls, type: "button" });
      b.addEventListener("click", () => run());
      return b;
    };
    const range = (name, min, max, value, onInput) => {
      const input = el("input", { type: "range", min: String(min), max: String(max), value: String(value), name });
      input.addEventListener("input", () => { onInput(Number(input.value)); this.syncControls(); });
      return input;
    };
    this.controls = {
      brush: button("Brush", "Paint the mask (B)", () => this.setTool("brush"), "mask-brush"),
      eraser: button("Eraser", "Erase the mask (E)", () => this.setTool("eraser"), "mask-eraser"),
      size: range("size", 1, 256, 32, (v) => { this.size = v; }),
      hardness: range("hardness", 0, 100, 80, (v) => { this.hardness = v / 100; }),
      opacity: range("opacity", 1, 100, 100, (v) => { this.opacity = v / 100; }),
      zoom: el("span", { className: "mask-zoom" }),
      sizeValue: el("span", { className: "mask-value" }),
    };
    const c = this.controls;
    const toolbar = el("div", { className: "mask-toolbar" }, [
      c.brush, c.eraser,
      el("label", {}, ["Size ", c.size, c.sizeValue]),
      el("label", {}, ["Hardness ", c.hardness]),
      el("label", {}, ["Opacity ", c.opacity]),
      button("Invert", "Invert the mask (I)", () => this.invert(), "mask-invert"),
      button("Clear", "Clear the mask", () => this.clear(), "mask-clear"),
      button("Undo", "Undo (Ctrl+Z)", () => this.undo(), "mask-undo"),
      button("Redo", "Redo (Ctrl+Y)", () => this.redo(), "mask-redo"),
      button("−", "Zoom out (-)", () => this.zoomBy(1 / 1.25)), c.zoom, button("+", "Zoom in (+)", () => this.zoomBy(1.25)),
      button("Fit", "Fit the image (0)", () => this.fit()),
      el("span", { className: "spacer" }),
      button("Cancel", "Close without saving (Escape)", () => this.close(), "mask-cancel"),
      button("Save", "Save the mask to a new file in input/ (Enter)", () => this.save(), "primary mask-save"),
    ]);
    this.layer = el("div", { className: "mask-layer" });
    this.cursor = el("div", { className: "mask-cursor" });
    this.stage = el("div", { className: "mask-stage" }, [this.layer, this.cursor]);
    this.element = el("div", { className: "mask-editor", tabIndex: -1 }, [toolbar, this.stage]);
    this.element.setAttribute("role", "dialog");
    this.element.setAttribute("aria-label", "Mask editor");
    this.bindPointer();
    window.addEventListener("keydown", this.onKey, true);
    window.addEventListener("keyup", this.onKeyUp, true);
    document.body.append(this.element);
    this.element.focus();
  }

  syncControls() {
    const c = this.controls;
    c.brush.classList.toggle("active", this.tool === "brush");
    c.eraser.classList.toggle("active", this.tool === "eraser");
    c.size.value = String(this.size);
    c.sizeValue.textContent = `${this.size}px`;
    c.hardness.value = String(Math.round(this.hardness * 100));
    c.opacity.value = String(Math.round(this.opacity * 100));
    c.zoom.textContent = `${Math.round(this.view.scale * 100)}%`;
    this.element.dataset.tool = this.tool;
  }

  setTool(tool) { this.tool = tool; this.syncControls(); }

  setSize(size) { this.size = Math.max(1, Math.min(Number(this.controls.size.max), Math.round(size))); this.syncControls(); }

  // --- view: zoom and pan -----------------------------------------------------------------
  applyView() {
    const { scale, x, y } = this.view;
    this.layer.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
    this.layer.classList.toggle("pixelated", scale >= 3);
    this.syncControls();
  }

  fit() {
    const rect = this.stage.getBoundingClientRect();
    const scale = Math.max(0.05, Math.min((rect.width * 0.9) / this.w, (rect.height * 0.9) / this.h));
    this.view = { scale, x: (rect.width - this.w * scale) / 2, y: (rect.height - this.h * scale) / 2 };
    this.applyView();
  }

  zoomBy(factor, clientX = null, clientY = null) {
    const rect = this.stage.getBoundingClientRect();
    const px = clientX === null ? rect.width / 2 : clientX - rect.left;
    const py = clientY === null ? rect.height / 2 : clientY - rect.top;
    const scale = Math.min(64, Math.max(0.05, this.view.scale * factor));
    const k = scale / this.view.scale;
    this.view = { scale, x: px - (px - this.view.x) * k, y: py - (py - this.view.y) * k };
    this.applyView();
  }

  /** Client point -> image pixel coordinates. */
  toImage(e) {
    const r = this.overlay.getBoundingClientRect();
    return [((e.clientX - r.left) * this.w) / r.width, ((e.clientY - r.top) * this.h) / r.height];
  }

  // --- pointer ------------------------------------------------------------------------------
  bindPointer() {
    const stage = this.stage;
    stage.addEventListener("contextmenu", (e) => e.preventDefault());
    stage.addEventListener("wheel", (e) => { e.preventDefault(); this.zoomBy(Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY); }, { passive: false });
    stage.addEventListener("pointerdown", (e) => {
      if (!this.overlay) return;
      stage.setPointerCapture?.(e.pointerId);
      if (e.button === 1 || e.button === 2 || (e.button === 0 && this.space)) {
        this.pan = { start: [e.clientX, e.clientY], from: { ...this.view } };
      } else if (e.button === 0) {
        this.stroking = true;
        this.last = this.toImage(e);
        this.dab(...this.last);
        this.requestRender();
      }
    });
    stage.addEventListener("pointermove", (e) => {
      this.moveCursor(e);
      if (this.pan) {
        const { start, from } = this.pan;
        this.view = { ...from, x: from.x + e.clientX - start[0], y: from.y + e.clientY - start[1] };
        this.applyView();
      } else if (this.stroking) {
        const point = this.toImage(e);
        this.line(this.last, point);
        this.last = point;
        this.requestRender();
      }
    });
    const end = () => {
      if (this.stroking) this.commitStroke();
      this.stroking = false;
      this.pan = null;
    };
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
  }

  moveCursor(e) {
    const rect = this.stage.getBoundingClientRect();
    const d = this.size * this.view.scale;
    Object.assign(this.cursor.style, { width: `${d}px`, height: `${d}px`, left: `${e.clientX - rect.left - d / 2}px`, top: `${e.clientY - rect.top - d / 2}px` });
  }

  // --- painting -----------------------------------------------------------------------------
  /** One round dab on the stroke layer; hardness = the share of the radius at full strength. */
  dab(x, y) {
    const ctx = this.strokeCtx;
    const r = Math.max(0.5, this.size / 2);
    const g = ctx.createRadialGradient(x, y, 0, x, y, r);
    g.addColorStop(0, "rgba(255,255,255,1)");
    g.addColorStop(Math.min(0.99, this.hardness), "rgba(255,255,255,1)");
    g.addColorStop(1, "rgba(255,255,255,0)");
    ctx.fillStyle = g;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fill();
  }

  line([x1, y1], [x2, y2]) {
    const spacing = Math.max(0.5, this.size * 0.15);
    const n = Math.ceil(Math.hypot(x2 - x1, y2 - y1) / spacing);
    for (let i = 1; i <= n; i++) this.dab(x1 + ((x2 - x1) * i) / n, y1 + ((y2 - y1) * i) / n);
  }

  /** The finished stroke joins the mask at the brush opacity (one undo step). */
  commitStroke() {
    this.pushUndo();
    const m = this.maskCtx;
    m.globalAlpha = this.opacity;
    m.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
    m.drawImage(this.stroke, 0, 0);
    m.globalAlpha = 1;
    m.globalCompositeOperation = "source-over";
    this.strokeCtx.clearRect(0, 0, this.w, this.h);
    this.render();
  }

  /** Change every mask pixel's strength with `fn(alpha) -> alpha` (one undo step). */
  mapMask(fn) {
    this.pushUndo();
    const data = this.maskCtx.getImageData(0, 0, this.w, this.h);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = px[i + 1] = px[i + 2] = 255;
      px[i + 3] = fn(px[i + 3]);
    }
    this.maskCtx.putImageData(data, 0, 0);
    this.render();
  }

  invert() { this.mapMask((a) => 255 - a); }
  clear() { this.mapMask(() => 0); }

  pushUndo() {
    this.undoStack.push(this.maskCtx.getImageData(0, 0, this.w, this.h));
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack = [];
  }

  undo() { this.swap(this.undoStack, this.redoStack); }
  redo() { this.swap(this.redoStack, this.undoStack); }

  swap(from, to) {
    if (!from.length) return;
    to.push(this.maskCtx.getImageData(0, 0, this.w, this.h));
    this.maskCtx.putImageData(from.pop(), 0, 0);
    this.render();
  }

  /** The share of the image that is masked (mean mask strength, 0..1): for tests and the title. */
  coverage() {
    const px = this.maskCtx.getImageData(0, 0, this.w, this.h).data;
    let sum = 0;
    for (let i = 3; i < px.length; i += 4) sum += px[i];
    return sum / (255 * this.w * this.h);
  }

  requestRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  /** The overlay: the mask (plus the stroke in progress) tinted over the image. */
  render() {
    const o = this.overlayCtx;
    if (!o) return;
    o.globalCompositeOperation = "source-over";
    o.globalAlpha = 1;
    o.clearRect(0, 0, this.w, this.h);
    o.drawImage(this.mask, 0, 0);
    if (this.stroking) {
      o.globalAlpha = this.opacity;
      o.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
      o.drawImage(this.stroke, 0, 0);
      o.globalAlpha = 1;
    }
    o.globalCompositeOperation = "source-in";
    o.fillStyle = TINT;
    o.fillRect(0, 0, this.w, this.h);
    o.globalCompositeOperation = "source-over";
    this.element.dataset.undo = String(this.undoStack.length);
  }

  // --- keys ---------------------------------------------------------------------------------
  key(e) {
    const ctrl = e.ctrlKey || e.metaKey;
    const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const actions = {
      "z": ctrl && !e.shiftKey ? () => this.undo() : ctrl ? () => this.redo() : null,
      "y": ctrl ? () => this.redo() : null,
      "b": !ctrl ? () => this.setTool("brush") : null,
      "e": !ctrl ? () => this.setTool("eraser") : null,
      "x": !ctrl ? () => this.setTool(this.tool === "brush" ? "eraser" : "brush") : null,
      "i": !ctrl ? () => this.invert() : null,
      "[": () => this.setSize(this.size / 1.25),
      "]": () => this.setSize(Math.max(this.size + 1, this.size * 1.25)),
      "+": () => this.zoomBy(1.25),
      "=": () => this.zoomBy(1.25),
      "-": () => this.zoomBy(1 / 1.25),
      "0": () => this.fit(),
      " ": () => { this.space = true; },
      Enter: () => this.save(),
      Escape: () => this.close(),
    };
    e.stopPropagation(); // nothing reaches the graph's shortcuts while the editor is open
    const run = actions[k];
    const inRange = e.target && e.target.tagName === "INPUT" && /^Arrow|^Home$|^End$/.test(e.key);
    if (!run || inRange) return;
    e.preventDefault();
    run();
  }

  // --- saving -------------------------------------------------------------------------------
  /** A PNG whose alpha is 1 - mask (transparent where masked), the shape /upload/mask takes. */
  maskPng() {
    const out = canvas(this.w, this.h);
    const data = this.maskCtx.getImageData(0, 0, this.w, this.h);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = px[i + 1] = px[i + 2] = 0;
      px[i + 3] = 255 - px[i + 3];
    }
    out.getContext("2d").putImageData(data, 0, 0);
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  async save() {
    if (this.saving) return;
    this.saving = true;
    try {
      const name = `${stemOf(this.ref).replace(/-mask( \(\d+\))?$/, "")}-mask.png`;
      const answer = await this.app.api.uploadMask(await this.maskPng(), name, this.ref);
      const saved = { filename: answer.name, subfolder: answer.subfolder || "", type: answer.type || "input" };
      await this.app.refreshObjectInfo();
      this.close();
      this.onSaved(saved);
      this.app.toast(`Mask saved as ${refValue(saved)}`);
    } catch (err) {
      this.saving = false;
      this.app.toast(`Saving the mask failed: ${err.message}`, "error");
    }
  }

  close() {
    window.removeEventListener("keydown", this.onKey, true);
    window.removeEventListener("keyup", this.onKeyUp, true);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.element?.remove();
    if (this.app.maskEditor === this) this.app.maskEditor = null;
    this.app.view.canvas.focus();
    this.app.view.requestDraw();
  }
}

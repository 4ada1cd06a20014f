// Hover feedback on the canvas: the cursor says what a drag would do (connect, resize, edit, move),
// and resting on an input, widget, output, link handle or title shows a tooltip built from
// /object_info (input `tooltip` options, `output_tooltips`, the node's description) and the types.
import { effectiveInfo } from "../model/editor_nodes.js";
import { inputSpecs, options } from "../model/types.js";
import { hitLinkHandle } from "./canvas_hits.js";

const DELAY = 450;
const CURSORS = { output: "crosshair", input: "crosshair", resize: "nwse-resize", widget: "pointer", collapse: "pointer", title: "move", link: "pointer" };

/** The tooltip text for a canvas hit (pure: `hit` from Interaction.hit or {kind: "link", link}). */
export function tooltipFor(hit, graph, objectInfo) {
  if (!hit) return "";
  if (hit.kind === "link") {
    const { link } = hit;
    const from = graph.nodes.get(link.from[0]);
    const to = graph.nodes.get(link.to[0]);
    const name = (n) => (n ? n.title || (objectInfo[n.type] || {}).display_name || n.type : "?");
    return `${link.type}\n#${link.from[0]} ${name(from)} → #${link.to[0]} ${name(to)} · ${link.to[1]}`;
  }
  const node = hit.node;
  const info = effectiveInfo(graph, node, objectInfo) || {};
  const specOf = (name) => (inputSpecs(info).find((s) => s.name === name) || {}).spec;
  if (hit.kind === "input") {
    const spec = specOf(hit.input);
    const tip = spec ? options(spec).tooltip : "";
    return [`${hit.input} (${hit.type})`, tip].filter(Boolean).join("\n");
  }
  if (hit.kind === "output") {
    const tips = info.output_tooltips || [];
    const name = (info.output_name || [])[hit.slot] || (node.outputs[hit.slot] || {}).name || hit.type;
    return [`${name} (${hit.type})`, tips[hit.slot]].filter(Boolean).join("\n");
  }
  if (hit.kind === "widget") {
    const row = hit.row;
    if (row.control) return "control after generate: what happens to the value after each queue";
    if (row.upload) return "choose an image file to upload into input/";
    if (row.note) return "";
    const tip = row.spec ? options(row.spec).tooltip : "";
    return [row.name, tip].filter(Boolean).join("\n");
  }
  if (hit.kind === "title") {
    const title = info.display_name || node.type;
    return [`#${node.id} ${title}${title !== node.type ? ` (${node.type})` : ""}`, info.description].filter(Boolean).join("\n");
  }
  if (hit.kind === "collapse") return node.collapsed ? "Expand (Alt+C)" : "Collapse (Alt+C)";
  return "";
}

export class HoverTips {
  constructor(app) {
    this.app = app;
    this.canvas = app.view.canvas;
    this.timer = null;
    this.tip = document.createElement("div");
    this.tip.id = "canvas-tooltip";
    this.tip.hidden = true;
    document.body.append(this.tip);
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerleave", () => this.hide());
    this.canvas.addEventListener("pointerdown", () => this.hide());
    this.canvas.addEventListener("wheel", () => this.hide(), { passive: true });
  }

  /** What is under the pointer: a node part or a link handle. */
  hitAt(clientX, clientY) {
    const [x, y] = this.app.view.toGraph(clientX, clientY);
    const hit = this.app.interaction.hit(x, y);
    if (hit) return hit;
    const link = hitLinkHandle(this.app.state.graph, this.app.view, x, y);
    return link ? { kind: "link", link } : null;
  }

  move(e) {
    this.hide();
    if (this.app.state.drag) return;
    const hit = this.hitAt(e.clientX, e.clientY);
    this.canvas.style.cursor = (hit && CURSORS[hit.kind]) || "";
    const text = tooltipFor(hit, this.app.state.graph, this.app.state.objectInfo);
    if (!text) return;
    this.timer = setTimeout(() => this.show(text, e.clientX, e.clientY), DELAY);
  }

  show(text, clientX, clientY) {
    const tip = this.tip;
    tip.textContent = text;
    tip.hidden = false;
    const { innerWidth, innerHeight } = window;
    const r = tip.getBoundingClientRect();
    tip.style.left = `${Math.max(4, Math.min(clientX + 14, innerWidth - r.width - 4))}px`;
    tip.style.top = `${Math.max(4, Math.min(clientY + 18, innerHeight - r.height - 4))}px`;
  }

  hide() {
    clearTimeout(this.timer);
    this.tip.hidden = true;
  }
}

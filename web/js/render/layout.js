// Node geometry in graph coordinates, shared by the renderer and hit-testing.
import { inputSpecs, options, widgetKind } from "../model/types.js";

export const TITLE_H = 28;
export const ROW_H = 22;
export const WIDGET_H = 24;
export const PAD = 6;
export const MIN_W = 200;
export const IMAGE_H = 180;
export const TEXT_H = 40; // the least height of a multiline text row (a prompt box); it takes the node's spare height
export const REROUTE_W = 40;
export const REROUTE_H = 22;

/** The middle of a link drawn from a to b (the same for straight lines and the symmetric spline). */
export function linkMidpoint(a, b) {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

const HANDLE_MIN_LENGTH = 90; // a shorter link shows no handle: its dot would crowd the slots

/** Where a link's handle dot is (the link menu), or null on a link too short to carry one. */
export function linkHandle(a, b) {
  return Math.hypot(b[0] - a[0], b[1] - a[1]) < HANDLE_MIN_LENGTH ? null : linkMidpoint(a, b);
}

const ROWS = new WeakMap(); // info -> Map(converted names + custom widget count -> rows); rows are read-only

/** Widget rows of a node: [{name, kind, spec, control?: true, upload?: true}] (cached per spec).
 * A node that extensions changed carries `extraWidgets` (web/js/comfy/): its rows come from those
 * objects, in their order (extra kinds: rows with `height`, `draw`, `press`; `extension: true`). */
export function widgetRows(node, info, custom = null) {
  if (!info) return [];
  if (node.extraWidgets) return node.extraWidgets.map((w) => w.toRow && w.toRow()).filter(Boolean);
  let key = custom ? String(custom.size) : "0";
  for (const input of node.inputs) if (input.widget) key += `\u0000${input.name}`;
  let byKey = ROWS.get(info);
  if (!byKey) ROWS.set(info, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached) return cached;
  const rows = [];
  const converted = new Set(node.inputs.filter((i) => i.widget).map((i) => i.name));
  for (const { name, spec } of inputSpecs(info)) {
    const kind = widgetKind(spec, custom);
    if (!kind || converted.has(name)) continue;
    rows.push(kind === "STRING" && options(spec).multiline ? { name, kind, spec, text: true } : { name, kind, spec });
    if (options(spec).control_after_generate) rows.push({ name, kind: "CONTROL", spec, control: true });
    if (options(spec).image_upload) rows.push({ name, kind: "UPLOAD", spec, upload: true });
  }
  byKey.set(key, rows);
  return rows;
}

/** Full geometry of a node: body rect, slot centres, widget rects, image rect. */
export function nodeLayout(node, info, extras = {}, custom = null) {
  const [x, y] = node.pos;
  const editor = info && info.editor;
  if (editor === "reroute") {
    const [w, h] = [REROUTE_W, REROUTE_H];
    return { x, y, w, h, inputs: [{ name: "input", type: "*", x, y: y + h / 2 }], outputs: [{ slot: 0, name: "", type: "*", x: x + w, y: y + h / 2 }],
      widgets: [], image: null, collapsed: false, reroute: true };
  }
  if (editor === "note" && !node.collapsed) {
    const w = Math.max(160, node.size[0]);
    const h = Math.max(TITLE_H + 50, node.size[1]);
    const [row] = widgetRows(node, info, custom);
    const text = { ...row, x: x + 8, y: y + TITLE_H + 6, w: w - 16, h: h - TITLE_H - 14, note: true };
    return { x, y, w, h, inputs: [], outputs: [], widgets: [text], image: null, collapsed: false, note: true };
  }
  if (node.collapsed) {
    return { x, y, w: Math.max(140, node.size[0] * 0.6), h: TITLE_H, inputs: [], outputs: [], widgets: [], image: null, collapsed: true };
  }
  const w = Math.max(MIN_W, node.size[0]);
  const outs = editor === "primitive" ? info.output.map((type, i) => ({ name: info.output_name[i], type })) : node.outputs;
  const rows = Math.max(node.inputs.length, outs.length);
  const slotTop = y + TITLE_H + PAD;
  const inputs = node.inputs.map((input, i) => ({ name: input.name, type: input.type, x, y: slotTop + i * ROW_H + ROW_H / 2 }));
  const outputs = outs.map((output, i) => ({ slot: i, name: output.name, type: output.type, x: x + w, y: slotTop + i * ROW_H + ROW_H / 2 }));
  const widgetTop = slotTop + rows * ROW_H + (rows ? 4 : 0);
  let top = widgetTop;
  const widgets = widgetRows(node, info, custom).map((row) => {
    const h = row.height || (row.text ? TEXT_H : WIDGET_H - 4);
    top += h + 4;
    return { ...row, x: x + 10, y: top - h - 4, w: w - 20, h };
  });
  let contentBottom = top + PAD;
  const hasImage = extras.hasImage || extras.hasText;
  const minH = contentBottom - y + (hasImage ? IMAGE_H : 0);
  const h = Math.max(minH, node.size[1]);
  const texts = widgets.filter((row) => row.text);
  if (texts.length && !hasImage && h > minH) contentBottom += growTexts(widgets, texts, h - minH);
  const image = hasImage ? { x: x + 6, y: contentBottom, w: w - 12, h: y + h - contentBottom - 6 } : null;
  return { x, y, w, h, inputs, outputs, widgets, image, collapsed: false, texts };
}

/** Share `spare` height among the text rows (prompt boxes grow with the node); rows below move down. */
function growTexts(widgets, texts, spare) {
  const each = spare / texts.length;
  let shift = 0;
  for (const row of widgets) {
    row.y += shift;
    if (row.text) { row.h += each; shift += each; }
  }
  return shift;
}

export function inside(px, py, r) {
  return px >= r.x && px <= r.x + r.w && py >= r.y && py <= r.y + r.h;
}

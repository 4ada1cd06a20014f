// Drawing helpers shared by the renderer's parts: text fitting and wrapping, shapes, images.
import { comboOptions } from "../model/types.js";

export function widgetText(node, row) {
  const value = node.widgets[row.name];
  if (row.control) return ["control after generate", node.controls[row.name] || "fixed"];
  if (row.upload) return ["upload", "choose file…"];
  if (row.kind === "BOOLEAN") return [row.name, value ? "true" : "false"];
  if ((row.spec[1] || {}).display === "color") return [row.name, `#${(Number(value) >>> 0).toString(16).padStart(6, "0")}`];
  if (row.kind === "FLOAT") return [row.name, Number(value).toFixed(decimals(row.spec))];
  if (row.kind === "COMBO") return [row.name, String(value ?? comboOptions(row.spec)[0] ?? "")];
  return [row.name, String(value ?? "").replace(/\n/g, " ⏎ ")];
}

export function decimals(spec) {
  const opts = spec[1] || {};
  const step = opts.round || opts.step || 0.01;
  return Math.min(4, Math.max(0, -Math.floor(Math.log10(step))));
}

export function clip(ctx, text, width) {
  text = String(text);
  if (width <= 0) return "";
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + "…").width <= width) lo = mid; else hi = mid - 1;
  }
  return text.slice(0, lo) + "…";
}

/** Split `word` into pieces no wider than `width` (a URL longer than the note breaks instead of spilling). */
export function breakWord(ctx, word, width) {
  const pieces = [];
  let rest = word;
  while (rest && ctx.measureText(rest).width > width) {
    let n = 1;
    while (n < rest.length && ctx.measureText(rest.slice(0, n + 1)).width <= width) n += 1;
    pieces.push(rest.slice(0, n));
    rest = rest.slice(n);
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** Draw `text` word-wrapped to `width`, at most `maxLines` lines; returns the lines used. */
export function wrapText(ctx, text, x, y, width, lineHeight, maxLines) {
  const words = String(text).split(/(\s+)/).flatMap((w) => (/^\s+$/.test(w) ? [w] : breakWord(ctx, w, width)));
  let line = "";
  let lines = 0;
  for (const word of words) {
    if (ctx.measureText(line + word).width > width && line) {
      ctx.fillText(line, x, y + lines * lineHeight);
      line = word.trimStart();
      if (++lines >= maxLines) return lines;
    } else line += word;
  }
  if (line && lines < maxLines) { ctx.fillText(line, x, y + lines * lineHeight); lines += 1; }
  return lines;
}

export function drawFit(ctx, img, r) {
  const w = img.naturalWidth || img.width;
  const h = img.naturalHeight || img.height;
  if (!w || !h || r.w <= 0 || r.h <= 0) return;
  const s = Math.min(r.w / w, r.h / h);
  ctx.imageSmoothingEnabled = s < 1;
  ctx.drawImage(img, r.x + (r.w - w * s) / 2, r.y + (r.h - h * s) / 2, w * s, h * s);
}

export function dot(ctx, x, y, r, color, filled, hole = "#1b1c1f") {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = filled ? color : hole;
  ctx.fill();
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.stroke();
}

export function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
}

// Drawing groups: a tinted box, a title bar, a resize corner. Titles are canvas text, never markup.
import { GROUP_TITLE_H } from "../model/groups.js";
import { clip } from "./paint.js";

export function drawGroup(ctx, group, theme, selected, scale) {
  const [x, y, w, h] = group.bounding;
  const color = group.color || "#3f789e";
  ctx.save();
  ctx.fillStyle = color;
  ctx.globalAlpha = 0.18;
  ctx.fillRect(x, y, w, h);
  ctx.globalAlpha = 0.45;
  ctx.fillRect(x, y, w, GROUP_TITLE_H);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = selected ? theme.selected : color;
  ctx.lineWidth = selected ? 3 / Math.max(scale, 0.5) : 2;
  ctx.strokeRect(x, y, w, h);
  ctx.beginPath(); // resize corner
  ctx.moveTo(x + w, y + h - 16);
  ctx.lineTo(x + w, y + h);
  ctx.lineTo(x + w - 16, y + h);
  ctx.closePath();
  ctx.fillStyle = color;
  ctx.fill();
  if (scale >= 0.25) {
    ctx.fillStyle = theme.text;
    ctx.font = "bold 20px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillText(clip(ctx, String(group.title ?? ""), w - 20), x + 10, y + GROUP_TITLE_H / 2);
  }
  ctx.restore();
}

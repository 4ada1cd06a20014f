// A node's images: one picture, a grid of a batch, or one image of it large with a pager bar
// ("‹ ▦ 2 / 4 ›"). The geometry is shared by drawing and by the clicks in ui/image_previews.js.
import { drawFit, roundRect } from "./paint.js";

export const PAGER_H = 22;
const BUTTON_W = 28;

/** The column count that gives square-ish images the largest cells. */
function bestColumns(rect, count) {
  let best = 1;
  let bestSide = 0;
  for (let cols = 1; cols <= count; cols++) {
    const side = Math.min(rect.w / cols, rect.h / Math.ceil(count / cols));
    if (side > bestSide + 0.5) { best = cols; bestSide = side; }
  }
  return best;
}

/** {cells: [{x, y, w, h, i}], bar, prev, next, grid} for `count` images in `rect`; index -1 = grid. */
export function imageSetLayout(rect, count, index) {
  if (count <= 1) return { cells: [{ ...rect, i: 0 }], bar: null };
  if (index < 0) {
    const cols = bestColumns(rect, count);
    const rows = Math.ceil(count / cols);
    const w = rect.w / cols;
    const h = rect.h / rows;
    const cells = [];
    for (let i = 0; i < count; i++) cells.push({ x: rect.x + (i % cols) * w + 1, y: rect.y + Math.floor(i / cols) * h + 1, w: w - 2, h: h - 2, i });
    return { cells, bar: null };
  }
  const bar = { x: rect.x, y: rect.y + rect.h - PAGER_H, w: rect.w, h: PAGER_H };
  return {
    cells: [{ x: rect.x, y: rect.y, w: rect.w, h: Math.max(1, rect.h - PAGER_H - 2), i: index }],
    bar,
    prev: { x: bar.x, y: bar.y, w: BUTTON_W, h: bar.h },
    grid: { x: bar.x + BUTTON_W + 4, y: bar.y, w: BUTTON_W, h: bar.h },
    next: { x: bar.x + bar.w - BUTTON_W, y: bar.y, w: BUTTON_W, h: bar.h },
  };
}

/** Draw `urls` in `rect`; `load(url)` gives an HTMLImageElement (drawn once it has loaded). */
export function drawImageSet(ctx, rect, urls, index, load, theme) {
  const set = imageSetLayout(rect, urls.length, index);
  for (const cell of set.cells) {
    const img = load(urls[cell.i]);
    if (img.complete && img.naturalWidth) drawFit(ctx, img, cell);
  }
  if (!set.bar) return;
  const { bar } = set;
  ctx.fillStyle = theme.widget;
  roundRect(ctx, bar.x, bar.y, bar.w, bar.h, 6);
  ctx.fill();
  ctx.fillStyle = theme.text;
  ctx.font = "600 13px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.textAlign = "center";
  const mid = bar.y + bar.h / 2;
  ctx.fillText("‹", set.prev.x + set.prev.w / 2, mid);
  ctx.fillText("›", set.next.x + set.next.w / 2, mid);
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(`${index + 1} / ${urls.length}`, bar.x + bar.w / 2, mid);
  ctx.textAlign = "left";
  const g = set.grid; // the grid button: four small squares
  ctx.fillStyle = theme.dim;
  for (const [dx, dy] of [[0, 0], [6, 0], [0, 6], [6, 6]]) ctx.fillRect(g.x + g.w / 2 - 5 + dx, mid - 5 + dy, 4, 4);
}

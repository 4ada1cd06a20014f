// A node that grows to show a preview (images, a latent preview, streamed text) grows only into the
// free space below it: up to the top of the nearest node underneath (that it does not already
// overlap). With too little room the preview becomes a thumbnail in the title bar.
import { MIN_W, TITLE_H } from "./layout.js";

const GAP = 12;
const MIN_IMAGE_H = 36;

/** The y of the highest node top at or below `from` whose columns overlap [x, x + w]. */
function topBelow(graph, node, x, w, from, layouts) {
  let best = Infinity;
  for (const other of graph.nodes.values()) {
    if (other === node) continue;
    const y = other.pos[1];
    if (y < from || y >= best) continue;
    const known = layouts.get(other.id);
    const ox = known ? known.x : other.pos[0];
    const ow = known ? known.w : Math.max(MIN_W, other.size[0]);
    if (ox < x + w && ox + ow > x) best = y;
  }
  return best;
}

/** `L` (a node layout with an image area) shrunk so it never covers a neighbour below. */
export function keepClear(L, node, graph, layouts) {
  const limit = topBelow(graph, node, L.x, L.w, L.image.y, layouts) - GAP;
  if (L.y + L.h <= limit) return L;
  const h = Math.max(node.size[1], L.image.y - L.y, limit - L.y);
  if (h >= L.h) return L;
  const imageH = L.y + h - L.image.y - 6;
  if (imageH >= MIN_IMAGE_H) return { ...L, h, image: { ...L.image, h: imageH } };
  return { ...L, h, image: null, thumb: { x: L.x + L.w - 34, y: L.y + 3, w: 28, h: TITLE_H - 6 } };
}

// Hit-testing what is not a node: link handles (the dot in a link's middle) and groups.
import { GROUP_TITLE_H } from "../model/groups.js";
import { linkHandle } from "../render/layout.js";

const HANDLE_HIT = 9;
const CORNER = 18;

/** The link whose middle handle is at graph point (x, y), or null. */
export function hitLinkHandle(graph, view, x, y) {
  for (const link of graph.links.values()) {
    const a = view.slotPoint(link.from[0], "out", link.from[1]);
    const b = view.slotPoint(link.to[0], "in", link.to[1]);
    if (!a || !b) continue;
    const handle = linkHandle(a, b);
    if (!handle) continue;
    const [mx, my] = handle;
    if (Math.abs(x - mx) <= HANDLE_HIT && Math.abs(y - my) <= HANDLE_HIT) return link;
  }
  return null;
}

/**
 * The group under (x, y): its title bar or resize corner (topmost group first), else the innermost
 * group whose body contains the point. {kind: "group-title" | "group-resize" | "group-body", group}.
 */
export function hitGroup(graph, x, y) {
  const groups = [...graph.groups].reverse();
  for (const group of groups) {
    const [gx, gy, w, h] = group.bounding;
    if (x < gx || y < gy || x > gx + w || y > gy + h) continue;
    if (x > gx + w - CORNER && y > gy + h - CORNER) return { kind: "group-resize", group };
    if (y <= gy + GROUP_TITLE_H) return { kind: "group-title", group };
  }
  let best = null;
  for (const group of groups) {
    const [gx, gy, w, h] = group.bounding;
    if (x >= gx && y >= gy && x <= gx + w && y <= gy + h && (!best || w * h < best.bounding[2] * best.bounding[3])) best = group;
  }
  return best ? { kind: "group-body", group: best } : null;
}

// Groups: titled, coloured rectangles. Moving one moves the nodes and the groups inside it.
// Geometry helpers plus undoable commands; `bounding` is [x, y, w, h] in graph coordinates.

export const GROUP_TITLE_H = 34;
export const GROUP_PAD = 16;
export const GROUP_COLORS = { blue: "#3f789e", green: "#4c8f4c", red: "#a1453f", yellow: "#a6893a", purple: "#7a56a8",
  cyan: "#3a8f94", grey: "#6b6e75", brown: "#7d5a3c" };

const within = (inner, outer) => inner[0] >= outer[0] && inner[1] >= outer[1]
  && inner[0] + inner[2] <= outer[0] + outer[2] && inner[1] + inner[3] <= outer[1] + outer[3];

/** Nodes (top-left corner inside) and groups (entirely inside) that move with `group`. */
export function groupContents(graph, group) {
  const [x, y, w, h] = group.bounding;
  const nodeIds = [...graph.nodes.values()].filter((n) => n.pos[0] >= x && n.pos[1] >= y && n.pos[0] <= x + w && n.pos[1] <= y + h)
    .map((n) => n.id);
  const groupIds = graph.groups.filter((g) => g !== group && within(g.bounding, group.bounding)).map((g) => g.id);
  return { nodeIds, groupIds };
}

/** A bounding box around node rectangles ({x, y, w, h}) and groups, with room for the title. */
export function boundsAround(rects, groups = []) {
  const boxes = [...rects.map((r) => [r.x, r.y, r.w, r.h]), ...groups.map((g) => g.bounding)];
  if (!boxes.length) return null;
  const x1 = Math.min(...boxes.map((b) => b[0])) - GROUP_PAD;
  const y1 = Math.min(...boxes.map((b) => b[1])) - GROUP_PAD - GROUP_TITLE_H;
  const x2 = Math.max(...boxes.map((b) => b[0] + b[2])) + GROUP_PAD;
  const y2 = Math.max(...boxes.map((b) => b[1] + b[3])) + GROUP_PAD;
  return [x1, y1, x2 - x1, y2 - y1];
}

export function makeGroup(graph, bounding, title = "Group", color = GROUP_COLORS.blue) {
  return { id: `g${graph.nextGroupId}`, title, bounding: [...bounding], color };
}

const find = (g, id) => g.groups.find((group) => group.id === id);

/** Add `group`, drawn below the groups it encloses (so nested groups stay on top). */
export function addGroup(group) {
  return {
    label: "add group",
    do(g) {
      const inner = g.groups.findIndex((other) => within(other.bounding, group.bounding));
      if (inner >= 0) g.groups.splice(inner, 0, group); else g.groups.push(group);
      const n = Number(group.id.replace(/^g/, ""));
      if (Number.isInteger(n) && n >= g.nextGroupId) g.nextGroupId = n + 1;
    },
    undo(g) { g.groups = g.groups.filter((other) => other !== group); },
  };
}

export function removeGroup(id) {
  let removed = null;
  let index = -1;
  return {
    label: "remove group",
    do(g) { index = g.groups.findIndex((group) => group.id === id); removed = g.groups[index]; if (removed) g.groups.splice(index, 1); },
    undo(g) { if (removed) g.groups.splice(index, 0, removed); },
  };
}

/** Set `key` (title, color) of a group. */
export function setGroup(id, key, value) {
  let before;
  return {
    label: `group ${key}`,
    do(g) { const group = find(g, id); if (!group) return; before = group[key]; group[key] = value; },
    undo(g) { const group = find(g, id); if (group) group[key] = before; },
  };
}

/** Move groups and nodes together by (dx, dy); drags coalesce through `mergeKey`. */
export function moveGroup(groupIds, nodeIds, dx, dy, mergeKey = null) {
  const shift = (g, sx, sy) => {
    for (const id of groupIds) { const group = find(g, id); if (group) { group.bounding[0] += sx; group.bounding[1] += sy; } }
    for (const id of nodeIds) { const n = g.nodes.get(id); if (n) { n.pos[0] += sx; n.pos[1] += sy; } }
  };
  return {
    label: "move group", mergeKey, dx, dy,
    do(g) { shift(g, this.dx, this.dy); },
    undo(g) { shift(g, -this.dx, -this.dy); },
    merge(other) { this.dx += other.dx; this.dy += other.dy; },
  };
}

export function resizeGroup(id, size, mergeKey = null) {
  let before = null;
  return {
    label: "resize group", mergeKey, size,
    do(g) { const group = find(g, id); if (!before) before = [group.bounding[2], group.bounding[3]]; [group.bounding[2], group.bounding[3]] = this.size; },
    undo(g) { const group = find(g, id); [group.bounding[2], group.bounding[3]] = before; },
    merge(other) { this.size = other.size; },
  };
}

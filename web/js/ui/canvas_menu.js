// The canvas menu's own entries (right-click on empty canvas), above the node library: Add Group
// here, Clone / Align the selection, Collapse or Expand all. Each entry is one undo step.
import { moveNodes, setProperty } from "../model/commands.js";
import { addGroup, makeGroup } from "../model/groups.js";

const NEW_GROUP_SIZE = [420, 300];

/** Moves that line `ids` up on one edge ("left" | "top" | "right" | "bottom") of the first selected. */
export function alignMoves(graph, ids, edge) {
  const nodes = ids.map((id) => graph.nodes.get(id)).filter((n) => n && !n.pinned);
  if (nodes.length < 2) return [];
  const far = (n) => (edge === "left" ? n.pos[0] : edge === "top" ? n.pos[1] : edge === "right" ? n.pos[0] + n.size[0] : n.pos[1] + n.size[1]);
  const target = edge === "left" || edge === "top" ? Math.min(...nodes.map(far)) : Math.max(...nodes.map(far));
  const horizontal = edge === "left" || edge === "right";
  return nodes.map((n) => [n.id, horizontal ? target - far(n) : 0, horizontal ? 0 : target - far(n)]).filter(([, dx, dy]) => dx || dy);
}

export function canvasMenuItems(app, clientX, clientY) {
  const graph = app.state.graph;
  const [gx, gy] = app.view.toGraph(clientX, clientY);
  const selected = [...app.state.selection].filter((id) => graph.nodes.has(id));
  const all = [...graph.nodes.keys()];
  const anyExpanded = [...graph.nodes.values()].some((n) => !n.collapsed);
  const items = [
    { label: "Add Group", run: () => app.run(addGroup(makeGroup(graph, [gx, gy, ...NEW_GROUP_SIZE]))) },
  ];
  if (selected.length) items.push({ label: `Clone selected (${selected.length})`, run: () => app.clipboard.duplicate() });
  if (selected.length > 1) {
    items.push({ label: "Align selected", children: ["left", "top", "right", "bottom"].map((edge) => ({
      label: `${edge} edges`,
      run: () => app.stack.batch(`align ${edge}`, () => {
        for (const [id, dx, dy] of alignMoves(graph, selected, edge)) app.run(moveNodes([id], dx, dy));
      }),
    })) });
  }
  if (all.length) {
    items.push({ label: anyExpanded ? "Collapse all nodes" : "Expand all nodes", run: () => app.run(setProperty(all, "collapsed", anyExpanded)) });
  }
  return items;
}

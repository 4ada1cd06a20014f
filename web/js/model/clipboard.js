// Copy and paste as plain data: a selection becomes a JSON-able payload; a payload becomes the
// commands that add it to a graph (new ids, placed at a point, internal links kept).
import { addNode, connect } from "./commands.js";
import { nodeToJSON } from "./graph.js";
import { definitionsUsed, instanceToJSON, restoreNode } from "./subgraphs.js";

export const CLIPBOARD_FORMAT = "nodeflow-clipboard";

/** The nodes `ids` of `graph`, their links among themselves, and links coming in from outside. */
export function copyNodes(graph, ids) {
  const chosen = new Set(ids.filter((id) => graph.nodes.has(id)));
  const nodes = [...graph.nodes.values()].filter((n) => chosen.has(n.id)).map((n) => instanceToJSON(n, nodeToJSON(n)));
  const links = [];
  const external = [];
  for (const link of graph.links.values()) {
    if (!chosen.has(link.to[0])) continue;
    const entry = { from: [...link.from], to: [...link.to], type: link.type };
    (chosen.has(link.from[0]) ? links : external).push(entry);
  }
  const subgraphs = definitionsUsed(graph, nodes); // a copied subgraph node brings its definition along
  return { format: CLIPBOARD_FORMAT, version: 1, nodes, links, external, ...(subgraphs.length ? { subgraphs } : {}) };
}

/** The payload in `text`, or null when it is something else. */
export function parseClipboard(text) {
  if (typeof text !== "string" || !text.includes(CLIPBOARD_FORMAT)) return null;
  try {
    const data = JSON.parse(text);
    return data && data.format === CLIPBOARD_FORMAT && Array.isArray(data.nodes) ? data : null;
  } catch {
    return null;
  }
}

/**
 * Run the payload into `graph` through `run(command)`: nodes get fresh ids and are shifted so the
 * top-left of their bounding box lands on `at` (or by `offset`). `keepExternal` also reconnects
 * links from nodes outside the copied set when those nodes exist here. Returns the new node ids.
 */
export function pasteNodes(graph, payload, objectInfo, run, { at = null, offset = null, keepExternal = false } = {}) {
  if (!payload.nodes.length) return [];
  const minX = Math.min(...payload.nodes.map((n) => (n.pos || [0, 0])[0]));
  const minY = Math.min(...payload.nodes.map((n) => (n.pos || [0, 0])[1]));
  const [dx, dy] = at ? [at[0] - minX, at[1] - minY] : offset || [0, 0];
  const ids = new Map();
  for (const d of payload.subgraphs || []) if (!graph.subgraphs.has(d.id)) graph.subgraphs.set(d.id, structuredClone(d));
  for (const saved of payload.nodes) {
    const id = String(graph.nextNodeId);
    const pos = saved.pos || [0, 0];
    const { node } = restoreNode(graph, { ...saved, pos: [pos[0] + dx, pos[1] + dy] }, objectInfo, id);
    run(addNode(node));
    ids.set(String(saved.id), id);
  }
  const tryConnect = (from, slot, to, input) => {
    if (graph.nodes.has(from) && graph.nodes.has(to) && graph.canConnect(from, slot, to, input)) run(connect(from, slot, to, input));
  };
  for (const link of payload.links || []) {
    tryConnect(ids.get(String(link.from[0])), link.from[1], ids.get(String(link.to[0])), link.to[1]);
  }
  if (keepExternal) {
    for (const link of payload.external || []) tryConnect(String(link.from[0]), link.from[1], ids.get(String(link.to[0])), link.to[1]);
  }
  return [...ids.values()];
}

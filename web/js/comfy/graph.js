// `app.graph` as ComfyUI extensions see it (LiteGraph's LGraph, the parts that map onto a NodeFlow
// graph), and the change watcher that turns NodeFlow edits (commands, undo, loads, pastes) into
// LiteGraph's node callbacks: onAdded, onRemoved, onConnectionsChange.
import { removeNodes } from "../model/commands.js";
import { INPUT, OUTPUT } from "./node.js";

/** A LiteGraph-shaped link {id, origin_id, origin_slot, target_id, target_slot, type} of a NodeFlow link. */
export function linkInfo(graph, link) {
  const target = graph.nodes.get(link.to[0]);
  const num = (id) => { const n = Number(id); return Number.isInteger(n) && String(n) === id ? n : id; };
  return { id: link.id, origin_id: num(link.from[0]), origin_slot: link.from[1], target_id: num(link.to[0]),
    target_slot: target ? target.inputs.findIndex((i) => i.name === link.to[1]) : -1, type: link.type };
}

export class GraphAdapter {
  constructor(app, graph) {
    this._app = app;
    this._graph = graph;
    this.extra = {};
  }

  get _nodes() { return [...this._graph.nodes.values()].map((n) => this._app.nodeFor(n)).filter(Boolean); }
  get nodes() { return this._nodes; }
  get _nodes_by_id() { return Object.fromEntries(this._nodes.map((n) => [n.id, n])); }

  /** {id: link}; also `.get(id)` as on the newer frontend's Map. */
  get links() {
    const links = {};
    for (const link of this._graph.links.values()) links[link.id] = linkInfo(this._graph, link);
    Object.defineProperty(links, "get", { value: (id) => links[id], enumerable: false });
    return links;
  }

  getNodeById(id) {
    const model = this._graph.nodes.get(String(id));
    return model ? this._app.nodeFor(model) : null;
  }

  findNodesByType(type) { return this._nodes.filter((n) => n.type === type); }
  findNodesByClass(type) { return this.findNodesByType(type); }

  remove(node) {
    if (!node || !this._graph.nodes.has(String(node.id))) return;
    if (this._graph === this._app.editor.state.graph) this._app.editor.run(removeNodes([String(node.id)]));
    else this._graph.removeNode(String(node.id));
  }

  setDirtyCanvas() { this._app.redraw(); }
  change() { this._app.redraw(); }
  serialize() { return this._graph.toJSON(); }
}

/**
 * Remembers, per NodeFlow graph, the nodes and links last seen; `sync(graph)` calls the callbacks
 * for what changed since (identity of the node and link objects, so an undo counts as a change).
 */
export class ChangeWatcher {
  constructor(app) {
    this.app = app;
    this.seen = new WeakMap(); // graph -> {nodes: Map, links: Map}
  }

  sync(graph) {
    const before = this.seen.get(graph) || { nodes: new Map(), links: new Map() };
    const now = { nodes: new Map(graph.nodes), links: new Map(graph.links) };
    this.seen.set(graph, now); // first: callbacks that edit the graph start a fresh comparison
    const app = this.app;
    const call = (model, hook, ...args) => {
      const node = app.nodeFor(model);
      if (node && typeof node[hook] === "function") app.host.guard({ extension: `node ${model.type}`, hook }, () => node[hook](...args));
    };
    const gone = [...before.links.values()].filter((l) => now.links.get(l.id) !== l);
    const made = [...now.links.values()].filter((l) => before.links.get(l.id) !== l);
    const removed = [...before.nodes.values()].filter((n) => now.nodes.get(n.id) !== n);
    const added = [...now.nodes.values()].filter((n) => before.nodes.get(n.id) !== n);
    const side = (link, connected, nodes) => {
      const info = linkInfo(connected ? graph : { nodes: before.nodes }, link);
      const source = nodes.get(link.from[0]);
      const target = nodes.get(link.to[0]);
      if (target) call(target, "onConnectionsChange", INPUT, info.target_slot, connected, info, target.inputs[info.target_slot]);
      if (source) call(source, "onConnectionsChange", OUTPUT, link.from[1], connected, info, source.outputs[link.from[1]]);
    };
    for (const link of gone) side(link, false, now.nodes);
    for (const model of removed) {
      call(model, "onRemoved");
      app.dom.detach(model);
    }
    for (const model of added) {
      const node = app.nodeFor(model);
      if (!node) continue;
      for (const w of node.widgets) w.push?.(); // element widgets show the node's (loaded, pasted) value
      call(model, "onAdded", app.graphAdapter(graph));
    }
    for (const link of made) side(link, true, now.nodes);
    return { added, removed, made, gone };
  }
}

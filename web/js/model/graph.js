// The graph model: nodes, links and widget values, with no DOM. Every edit goes through a
// command (commands.js) so it can be undone. Serialises to the NodeFlow workflow format v2
// (v1 files load: they have no subgraphs). Subgraph definitions and instances: subgraphs.js.
import { EDITOR_NODES, exportEditorNodes, importEditorNodes, primitiveTarget } from "./editor_nodes.js";
import { adoptBlueprint, instanceFromJSON, instanceToJSON, nodeInfo } from "./subgraphs.js";
import { defaultValue, inputSpecs, options, typesMatch, widgetInput, widgetKind } from "./types.js";

export class Graph {
  constructor() {
    this.nodes = new Map();
    this.links = new Map();
    this.groups = []; // [{id, title, bounding: [x, y, w, h], color}]
    this.nextNodeId = 1;
    this.nextGroupId = 1;
    this.nextLinkId = 1;
    this.viewport = { offset: [0, 0], scale: 1 };
    this.customWidgets = new Map(); // socket type -> widget factory from an extension
    this.hooks = null; // {made(node, info), saving(graph)} from the extension host, shared by every tab
    this.subgraphs = new Map(); // definition id -> subgraph definition (NodeFlow format)
    this.io = null; // the definition whose inside this graph shows (its "@in"/"@out" nodes), or null
  }

  /** A node of `type` from its /object_info entry (`info`), not yet added. */
  makeNode(type, info, pos = [0, 0], id = null) {
    adoptBlueprint(this, info); // a subgraph from the user's library brings its definitions
    info = info || EDITOR_NODES[type] || null;
    const node = {
      id: id ?? String(this.nextNodeId),
      type,
      title: null,
      version: info ? info.version ?? null : null,
      pos: [pos[0], pos[1]],
      size: info && info.default_size ? [...info.default_size] : [240, 80],
      mode: "active",
      collapsed: false,
      color: null,
      widgets: {},
      controls: {},
      inputs: [],
      outputs: [],
      missing: !info,
    };
    if (info) {
      for (const { name, spec } of inputSpecs(info)) {
        const kind = widgetKind(spec, this.customWidgets);
        if (kind) {
          node.widgets[name] = defaultValue(spec);
          if (options(spec).control_after_generate) node.controls[name] = "fixed";
        } else {
          node.inputs.push({ name, type: Array.isArray(spec[0]) ? "COMBO" : spec[0] });
        }
      }
      (info.output || []).forEach((type, i) => node.outputs.push({ name: (info.output_name || [])[i] || type, type }));
    }
    this.hooks?.made?.(node, info); // extensions may add widgets here (before saved values are restored)
    return node;
  }

  addNode(node) {
    if (this.nodes.has(node.id)) throw new Error(`node id ${node.id} is already used`);
    this.nodes.set(node.id, node);
    const numeric = Number(node.id);
    if (Number.isInteger(numeric) && numeric >= this.nextNodeId) this.nextNodeId = numeric + 1;
    return node;
  }

  removeNode(id) {
    const node = this.nodes.get(id);
    if (!node) return null;
    const removedLinks = [...this.links.values()].filter((l) => l.from[0] === id || l.to[0] === id);
    for (const link of removedLinks) this.links.delete(link.id);
    this.nodes.delete(id);
    return { node, links: removedLinks };
  }

  outputType(nodeId, slot, depth = 0) {
    const node = this.nodes.get(nodeId);
    if (node && node.type === "Reroute" && depth < 100) { // a reroute carries the type of what feeds it
      const up = this.linkInto(nodeId, "input");
      return up ? this.outputType(up.from[0], up.from[1], depth + 1) : "*";
    }
    if (node && node.type === "PrimitiveNode") { const target = primitiveTarget(this, nodeId); return target ? target.input.type : "*"; }
    return node && node.outputs[slot] ? node.outputs[slot].type : null;
  }

  inputType(nodeId, name, depth = 0) {
    const node = this.nodes.get(nodeId);
    if (node && node.type === "Reroute" && depth < 100) { // ... and takes what its targets take
      const down = this.linksFrom(nodeId, 0)[0];
      return down ? this.inputType(down.to[0], down.to[1], depth + 1) : "*";
    }
    const input = node && node.inputs.find((i) => i.name === name);
    return input ? input.type : null;
  }

  canConnect(fromId, slot, toId, inputName) {
    return this.connectProblem(fromId, slot, toId, inputName) === null;
  }

  /** Why output `slot` of `fromId` cannot feed `inputName` of `toId`, in words; null when it can. */
  connectProblem(fromId, slot, toId, inputName) {
    if (fromId === toId) return "a node cannot feed itself";
    const out = this.outputType(fromId, slot);
    const inp = this.inputType(toId, inputName);
    if (out === null || inp === null) return "that slot does not exist";
    if (!typesMatch(out, inp)) return `${out} cannot go into ${inputName} (it takes ${inp})`;
    const source = this.nodes.get(fromId);
    if (source.type === "PrimitiveNode" && !this.nodes.get(toId).inputs.find((i) => i.name === inputName).widget) {
      return "a Primitive feeds only inputs converted from widgets";
    }
    return this.reaches(toId, fromId) ? "the link would close a loop" : null;
  }

  /** Is `target` downstream of `start`? (a link start -> ... -> target would close a cycle) */
  reaches(start, target) {
    const stack = [start];
    const seen = new Set();
    while (stack.length) {
      const id = stack.pop();
      if (id === target) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const link of this.links.values()) if (link.from[0] === id) stack.push(link.to[0]);
    }
    return false;
  }

  linkInto(nodeId, inputName) {
    for (const link of this.links.values()) if (link.to[0] === nodeId && link.to[1] === inputName) return link;
    return null;
  }

  linksFrom(nodeId, slot) {
    return [...this.links.values()].filter((l) => l.from[0] === nodeId && l.from[1] === slot);
  }

  /** Connect; replaces a link already feeding that input. Returns {link, replaced}. */
  connect(fromId, slot, toId, inputName, id = null) {
    if (!this.canConnect(fromId, slot, toId, inputName)) {
      throw new Error(`cannot connect ${fromId}:${slot} to ${toId}.${inputName}`);
    }
    const replaced = this.linkInto(toId, inputName);
    if (replaced) this.links.delete(replaced.id);
    let type = this.outputType(fromId, slot);
    if (type === "*") type = this.inputType(toId, inputName); // a fresh primitive or reroute takes its target's type
    const link = { id: id ?? this.nextLinkId, from: [fromId, slot], to: [toId, inputName], type };
    this.links.set(link.id, link);
    if (link.id >= this.nextLinkId) this.nextLinkId = link.id + 1;
    return { link, replaced };
  }

  toJSON() {
    this.hooks?.saving?.(this); // extension widgets that keep their value elsewhere (DOM) write it back
    const nodes = [...this.nodes.values()].map((n) => instanceToJSON(n, nodeToJSON(n)));
    const links = [...this.links.values()].map((l) => ({ id: l.id, from: [...l.from], to: [...l.to], type: l.type }));
    return exportEditorNodes(this, { format: "nodeflow-workflow", version: 2, nodes, links,
      subgraphs: [...this.subgraphs.values()].map((d) => structuredClone(d)),
      groups: this.groups.map((g) => ({ ...g, bounding: [...g.bounding] })), notes: [],
      viewport: { offset: [...this.viewport.offset], scale: this.viewport.scale } });
  }

  /** A node rebuilt from its saved form (sockets from `info`); not yet added. Returns {node, warning}. */
  nodeFromJSON(saved, info, id = String(saved.id)) {
    const node = this.makeNode(saved.type, info, saved.pos || [0, 0], id);
    let warning = null;
    if (!info) warning = `unknown node type ${saved.type}: install the plugin that provides it`;
    else if (saved.version && info.version && saved.version !== info.version) {
      warning = `${saved.type} was saved with version ${saved.version}; this NodeFlow has ${info.version}`;
    }
    Object.assign(node, {
      title: saved.title ?? null, mode: saved.mode || "active", collapsed: !!saved.collapsed, color: saved.color ?? null,
      pinned: !!saved.pinned, // pinned: not moved or resized by drags or nudges (the node menu's Pin)
      size: saved.size ? [...saved.size] : node.size,
    });
    for (const [name, value] of Object.entries(saved.widgets || {})) { // null = no value: the default stays
      if (value !== null && (!info || name in node.widgets)) node.widgets[name] = structuredClone(value);
    }
    Object.assign(node.controls, saved.controls || {});
    for (const name of saved.converted || []) this.convertOnLoad(node, info, name);
    return { node, warning };
  }

  /** Widget `name` of `node` as an input socket (loading a link or a saved conversion). */
  convertOnLoad(node, info, name) {
    if (!info || node.inputs.some((i) => i.name === name) || !(name in node.widgets)) return false;
    const found = inputSpecs(info).find((s) => s.name === name);
    if (!found) return false;
    node.inputs.push(widgetInput(name, found.spec));
    return true;
  }

  /** Load a NodeFlow workflow; `objectInfo` rebuilds each node's sockets. Returns warnings. */
  static fromJSON(data, objectInfo, customWidgets = new Map(), hooks = null) {
    if (!data || data.format !== "nodeflow-workflow") throw new Error("not a NodeFlow workflow");
    const graph = new Graph();
    graph.customWidgets = customWidgets;
    graph.hooks = hooks;
    const warnings = [];
    graph.subgraphs = new Map((data.subgraphs || []).map((d) => [d.id, structuredClone(d)]));
    graph.io = data.io || null;
    for (let saved of data.nodes || []) {
      let promoted = null;
      let info = objectInfo[saved.type];
      if (graph.subgraphs.has(saved.type)) ({ saved, promoted, info } = instanceFromJSON(graph, saved, objectInfo));
      else if (graph.io && (saved.id === "@in" || saved.id === "@out")) info = nodeInfo(graph, saved, objectInfo);
      const { node, warning } = graph.nodeFromJSON(saved, info);
      if (promoted && promoted.length) node.promoted = promoted;
      if (warning) warnings.push({ node: node.id, message: warning });
      graph.addNode(node);
    }
    const links = data.links || [];
    for (const link of links) {
      if (Number.isInteger(link.id) && link.id >= graph.nextLinkId) graph.nextLinkId = link.id + 1;
      const target = graph.nodes.get(String(link.to[0])); // a link into a widget: that widget was converted
      if (target) graph.convertOnLoad(target, objectInfo[target.type], link.to[1]);
    }
    const failed = (link) => warnings.push({ node: String(link.to[0]), message: `link into ${link.to[1]} could not be restored` });
    for (const link of links.filter((l) => !(l.via && l.via.length))) {
      try {
        graph.connect(String(link.from[0]), link.from[1], String(link.to[0]), link.to[1], link.id);
      } catch {
        failed(link);
      }
    }
    importEditorNodes(graph, data, links.filter((l) => l.via && l.via.length), failed);
    graph.groups = (data.groups || []).map((g) => ({ ...g, id: String(g.id ?? `g${graph.nextGroupId}`), bounding: [...(g.bounding || [0, 0, 0, 0])] }));
    for (const g of graph.groups) {
      const n = Number(String(g.id).replace(/^g/, ""));
      if (Number.isInteger(n) && n >= graph.nextGroupId) graph.nextGroupId = n + 1;
    }
    if (data.viewport) graph.viewport = { offset: [...(data.viewport.offset || [0, 0])], scale: data.viewport.scale || 1 };
    return { graph, warnings };
  }
}

/** Widget values saved with the workflow: all but extension widgets marked not to be saved. */
function savedWidgets(n) {
  const skip = (n.extraWidgets || []).filter((w) => w.saved === false).map((w) => w.name);
  const widgets = structuredClone(n.widgets);
  for (const name of skip) delete widgets[name];
  return widgets;
}

/** A node in the saved (NodeFlow workflow) form. */
export function nodeToJSON(n) {
  return {
    id: n.id, type: n.type, version: n.version, pos: [...n.pos], size: [...n.size], title: n.title,
    color: n.color, bgcolor: null, mode: n.mode, collapsed: n.collapsed, widgets: savedWidgets(n),
    controls: { ...n.controls }, ...(n.pinned ? { pinned: true } : {}),
    ...(n.inputs.some((i) => i.widget) ? { converted: n.inputs.filter((i) => i.widget).map((i) => i.name) } : {}),
  };
}

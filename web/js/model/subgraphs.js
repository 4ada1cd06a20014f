// Subgraphs in the editor model: definitions (graph.subgraphs, NodeFlow format v2, see
// docs/workflow-format.md) and instances (nodes whose type is a definition id). An instance's
// /object_info-like entry is derived from its definition: one socket per subgraph input (a widget
// when the input feeds a widget inside), one output per subgraph output, plus the inner widgets
// the instance promotes (widget names "<inner id>/<widget>"). Edits are undoable commands.
import { restore, snapshot } from "./commands.js";
import { editorKind, exportEditorNodes } from "./editor_nodes.js";
import { nodeToJSON } from "./graph.js";
import { inputSpecs, widgetKind } from "./types.js";

export const IN = "@in";
export const OUT = "@out";
export const IO_TYPES = { [IN]: "SubgraphInput", [OUT]: "SubgraphOutput" };
export const NEW_SLOT = "+"; // the empty slot on the inputs/outputs nodes inside: link to it to add one

export const isInstance = (graph, node) => !!(node && graph.subgraphs && graph.subgraphs.has(node.type));
export const promotedKey = (entry) => `${entry.node}/${entry.widget}`;

/** The inner input spec a subgraph input feeds when that is a widget (nested subgraphs too), else null. */
function widgetSpecOf(definition, slot, defs, objectInfo, depth = 0) {
  if (depth > 32) return null;
  for (const link of definition.links || []) {
    if (link.from[0] !== IN || link.from[1] !== slot) continue;
    const target = (definition.nodes || []).find((n) => n.id === link.to[0]);
    if (!target) continue;
    const inner = defs.get(target.type);
    if (inner) {
      const k = (inner.inputs || []).findIndex((s) => s.name === link.to[1]);
      const spec = k >= 0 ? widgetSpecOf(inner, k, defs, objectInfo, depth + 1) : null;
      if (spec) return spec;
      continue;
    }
    const found = inputSpecs(objectInfo[target.type] || {}).find((s) => s.name === link.to[1]);
    if (found && widgetKind(found.spec)) return found.spec;
  }
  return null;
}

function innerWidgetSpec(definition, nodeId, widget, defs, objectInfo) {
  const inner = (definition.nodes || []).find((n) => n.id === String(nodeId));
  if (!inner) return null;
  const info = defs.has(inner.type) ? subgraphInfo(defs.get(inner.type), defs, objectInfo, inner.promoted || []) : objectInfo[inner.type];
  const found = inputSpecs(info || {}).find((s) => s.name === widget);
  return found ? found.spec : null;
}

/** Does the definition (or one nested in it) hold an output node? */
function hasOutputNode(definition, defs, objectInfo, depth = 0) {
  return depth < 32 && (definition.nodes || []).some((n) => (defs.has(n.type)
    ? hasOutputNode(defs.get(n.type), defs, objectInfo, depth + 1) : !!(objectInfo[n.type] || {}).output_node));
}

const INFO_CACHE = new WeakMap(); // definition -> {defs, objectInfo, byKey}: the same info object while nothing changed

/** The /object_info-like entry of an instance of `definition` promoting `promoted` widgets. */
export function subgraphInfo(definition, defs, objectInfo, promoted = []) {
  let cached = INFO_CACHE.get(definition);
  if (!cached || cached.defs !== defs || cached.objectInfo !== objectInfo) {
    cached = { defs, objectInfo, byKey: new Map() };
    INFO_CACHE.set(definition, cached);
  }
  const key = promoted.map(promotedKey).join("\u0000");
  if (!cached.byKey.has(key)) cached.byKey.set(key, computeInfo(definition, defs, objectInfo, promoted));
  return cached.byKey.get(key);
}

function computeInfo(definition, defs, objectInfo, promoted) {
  const required = {};
  const order = [];
  (definition.inputs || []).forEach((slot, k) => {
    required[slot.name] = widgetSpecOf(definition, k, defs, objectInfo) || [slot.type || "*"];
    order.push(slot.name);
  });
  for (const entry of promoted) {
    if (String(entry.node) === "-1") continue;
    const spec = innerWidgetSpec(definition, entry.node, entry.widget, defs, objectInfo);
    if (spec) { required[promotedKey(entry)] = spec; order.push(promotedKey(entry)); }
  }
  return {
    name: definition.id, display_name: definition.name || "Subgraph", category: "subgraphs", subgraph: true,
    description: definition.description || "", input: { required }, input_order: { required: order },
    output: (definition.outputs || []).map((s) => s.type || "*"), output_name: (definition.outputs || []).map((s) => s.name),
    output_node: hasOutputNode(definition, defs, objectInfo),
  };
}

/** The IO nodes shown inside an opened subgraph: "@in" has the subgraph inputs as outputs, "@out" the
 * reverse; each ends with an empty "+" slot (typed by what gets linked to it) that adds one. */
export function ioInfo(definition, side) {
  const slots = [...(definition.inputs || []), { name: NEW_SLOT, type: "*" }];
  const outs = [...(definition.outputs || []), { name: NEW_SLOT, type: "*" }];
  if (side === IN) return { display_name: "Inputs", category: "subgraphs", input: { required: {} }, output: slots.map((s) => s.type || "*"), output_name: slots.map((s) => s.name) };
  const required = Object.fromEntries(outs.map((s) => [s.name, [s.type || "*"]]));
  return { display_name: "Outputs", category: "subgraphs", input: { required }, input_order: { required: outs.map((s) => s.name) }, output: [], output_name: [] };
}

/** Info for any node of `graph` (instances and IO nodes included), or null. */
export function nodeInfo(graph, node, objectInfo) {
  if (graph.io && (node.id === IN || node.id === OUT)) return ioInfo(graph.io, node.id);
  const definition = graph.subgraphs && graph.subgraphs.get(node.type);
  if (definition) return subgraphInfo(definition, graph.subgraphs, objectInfo, node.promoted || []);
  return null;
}

/** A saved instance -> what Graph.nodeFromJSON needs: its info and its widget values by name. */
export function instanceFromJSON(graph, saved, objectInfo) {
  const promoted = (saved.promoted || []).map((e) => ({ node: String(e.node), widget: e.widget }));
  const widgets = { ...(saved.widgets || {}) };
  for (const e of saved.promoted || []) if (String(e.node) !== "-1" && e.value !== undefined) widgets[promotedKey(e)] = e.value;
  return { saved: { ...saved, widgets }, promoted, info: subgraphInfo(graph.subgraphs.get(saved.type), graph.subgraphs, objectInfo, promoted) };
}

/** An instance in the saved form: promoted values go back into `promoted`. */
export function instanceToJSON(node, json) {
  if (!node.promoted || !node.promoted.length) return json;
  const widgets = { ...json.widgets };
  const promoted = node.promoted.map((e) => {
    if (e.node === "-1") return { node: "-1", widget: e.widget };
    const key = promotedKey(e);
    const value = widgets[key];
    delete widgets[key];
    return { node: e.node, widget: e.widget, ...(value !== undefined ? { value } : {}) };
  });
  return { ...json, widgets, promoted };
}

/** A library blueprint ({definition, definitions}) being added: its definitions join the graph. */
export function adoptBlueprint(graph, info) {
  const bundle = info && info.subgraph_blueprint;
  if (!bundle) return;
  for (const d of [bundle.definition, ...(bundle.definitions || [])]) if (!graph.subgraphs.has(d.id)) graph.subgraphs.set(d.id, structuredClone(d));
}

/** Every definition `definition` uses, nested ones included (for saving it to the library). */
export function dependencies(definition, defs, found = new Map()) {
  for (const n of definition.nodes || []) {
    const inner = defs.get(n.type);
    if (inner && !found.has(inner.id)) { found.set(inner.id, inner); dependencies(inner, defs, found); }
  }
  return [...found.values()];
}

/** The definitions saved nodes use (nested included): what a copy of them must carry along. */
export function definitionsUsed(graph, saved) {
  const found = new Map();
  for (const n of saved) {
    const d = graph.subgraphs.get(n.type);
    if (d && !found.has(d.id)) { found.set(d.id, d); for (const inner of dependencies(d, graph.subgraphs)) found.set(inner.id, inner); }
  }
  return [...found.values()].map((d) => structuredClone(d));
}

/** A saved node rebuilt in `graph` under `id` (instances with their promoted widgets); returns {node, warning}. */
export function restoreNode(graph, saved, objectInfo, id) {
  if (!graph.subgraphs.has(saved.type)) return graph.nodeFromJSON(saved, objectInfo[saved.type], id);
  const { saved: withValues, promoted, info } = instanceFromJSON(graph, saved, objectInfo);
  const result = graph.nodeFromJSON(withValues, info, id);
  if (promoted.length) result.node.promoted = promoted;
  return result;
}

// --- whole-graph edits as one undo step ---------------------------------------------------
function edit(label, mutate) {
  let before = null;
  let after = null;
  return {
    label,
    do(g) {
      if (after) { restore(g, after); return; }
      before = snapshot(g);
      try { this.result = mutate(g); } catch (err) { restore(g, before); throw err; }
      after = snapshot(g);
    },
    undo(g) { restore(g, before); },
  };
}

const uniqueName = (name, taken) => {
  let candidate = name || "value";
  for (let i = 1; taken.has(candidate); i++) candidate = `${name}_${i}`;
  taken.add(candidate);
  return candidate;
};

export const newSubgraphId = () => (globalThis.crypto && crypto.randomUUID ? crypto.randomUUID()
  : "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, () => Math.floor(Math.random() * 16).toString(16)));

/** Convert the nodes `ids` into a new subgraph and one instance of it; links crossing the boundary
 * become its inputs and outputs. `command.result` is the instance id. */
export function convertToSubgraph(ids, objectInfo, { id = newSubgraphId(), name = "New subgraph" } = {}) {
  return edit("convert to subgraph", (g) => {
    // reroutes and notes stay where they are (a link through a reroute simply crosses the border)
    const inside = new Set(ids.filter((nid) => g.nodes.has(nid) && !["reroute", "note"].includes(editorKind(g.nodes.get(nid).type))));
    if (!inside.size) throw new Error("select the nodes to turn into a subgraph first");
    const nodes = [...inside].map((nid) => g.nodes.get(nid));
    const links = [...g.links.values()];
    const crossingIn = links.filter((l) => !inside.has(l.from[0]) && inside.has(l.to[0]));
    const crossingOut = links.filter((l) => inside.has(l.from[0]) && !inside.has(l.to[0]));
    const x0 = Math.min(...nodes.map((n) => n.pos[0]));
    const y0 = Math.min(...nodes.map((n) => n.pos[1]));
    const inputs = [];
    const outputs = [];
    const inputOf = new Map(); // "node:slot" outside -> input index
    const outputOf = new Map(); // "node:slot" inside -> output name
    const defLinks = links.filter((l) => inside.has(l.from[0]) && inside.has(l.to[0]))
      .map((l) => ({ id: l.id, from: [...l.from], to: [...l.to], type: l.type }));
    const takenIn = new Set();
    const takenOut = new Set();
    for (const l of crossingIn) {
      const key = `${l.from[0]}:${l.from[1]}`;
      if (!inputOf.has(key)) { inputOf.set(key, inputs.length); inputs.push({ id: newSubgraphId(), name: uniqueName(l.to[1], takenIn), type: l.type || "*" }); }
      defLinks.push({ id: l.id, from: [IN, inputOf.get(key)], to: [...l.to], type: l.type });
    }
    for (const l of crossingOut) {
      const key = `${l.from[0]}:${l.from[1]}`;
      if (!outputOf.has(key)) {
        const source = g.nodes.get(l.from[0]);
        const slotName = (source.outputs[l.from[1]] || {}).name || l.type;
        outputOf.set(key, uniqueName(slotName, takenOut));
        outputs.push({ id: newSubgraphId(), name: outputOf.get(key), type: l.type || "*" });
        defLinks.push({ id: l.id, from: [...l.from], to: [OUT, outputOf.get(key)], type: l.type });
      }
    }
    const saved = exportEditorNodes(g, { // saved as a workflow is: a Primitive's value also in the widgets it feeds
      nodes: nodes.map((n) => { const json = instanceToJSON(n, nodeToJSON(n)); json.pos = [n.pos[0] - x0, n.pos[1] - y0]; return json; }),
      links: defLinks });
    const definition = {
      id, name, inputs, outputs, widgets: [],
      nodes: saved.nodes, links: saved.links, groups: [], notes: [],
      io_nodes: { input: [-260, 0, 120, 60], output: [Math.max(...nodes.map((n) => n.pos[0] - x0 + n.size[0])) + 120, 0, 120, 60] },
    };
    for (const nid of inside) g.removeNode(nid);
    g.subgraphs.set(id, definition);
    const info = subgraphInfo(definition, g.subgraphs, objectInfo);
    const instance = g.makeNode(id, info, [x0, y0]);
    g.addNode(instance);
    for (const l of crossingIn) {
      const k = inputOf.get(`${l.from[0]}:${l.from[1]}`);
      const input = inputs[k].name;
      g.convertOnLoad(instance, info, input);
      if (!g.links.has(l.id) && !g.linkInto(instance.id, input)) g.connect(l.from[0], l.from[1], instance.id, input);
    }
    for (const l of crossingOut) {
      const slot = outputs.findIndex((o) => o.name === outputOf.get(`${l.from[0]}:${l.from[1]}`));
      g.connect(instance.id, slot, l.to[0], l.to[1]);
    }
    return instance.id;
  });
}

/** Replace instance `instanceId` by copies of its inner nodes, links reconnected, values kept. */
export function unpackSubgraph(instanceId, objectInfo) {
  return edit("unpack subgraph", (g) => {
    const instance = g.nodes.get(instanceId);
    const definition = instance && g.subgraphs.get(instance.type);
    if (!definition) throw new Error(`node ${instanceId} is not a subgraph`);
    const idOf = new Map();
    const made = [];
    for (const saved of definition.nodes || []) {
      const id = String(g.nextNodeId);
      idOf.set(saved.id, id);
      const moved = { ...saved, pos: [instance.pos[0] + (saved.pos || [0, 0])[0], instance.pos[1] + (saved.pos || [0, 0])[1]] };
      const { node } = restoreNode(g, moved, objectInfo, id);
      g.addNode(node);
      made.push([saved, node]);
    }
    for (const e of instance.promoted || []) {
      const target = g.nodes.get(idOf.get(String(e.node)));
      if (target && instance.widgets[promotedKey(e)] !== undefined) target.widgets[e.widget] = structuredClone(instance.widgets[promotedKey(e)]);
    }
    const outer = [...g.links.values()];
    const feeding = (name) => outer.find((l) => l.to[0] === instanceId && l.to[1] === name);
    const safeConnect = (from, slot, to, input) => {
      const node = g.nodes.get(to);
      if (node && !node.inputs.some((i) => i.name === input)) g.convertOnLoad(node, objectInfo[node.type] || nodeInfo(g, node, objectInfo), input);
      try { g.connect(from, slot, to, input); } catch { /* a link that no longer type-checks is dropped */ }
    };
    for (const l of definition.links || []) {
      if (l.from[0] === IN) {
        const name = (definition.inputs[l.from[1]] || {}).name;
        const feed = feeding(name);
        const target = idOf.get(l.to[0]) ?? null;
        if (l.to[0] === OUT) continue;
        if (feed) safeConnect(feed.from[0], feed.from[1], target, l.to[1]);
        else if (instance.widgets[name] !== undefined) g.nodes.get(target).widgets[l.to[1]] = structuredClone(instance.widgets[name]);
      } else if (l.to[0] === OUT) {
        const slot = (definition.outputs || []).findIndex((o) => o.name === l.to[1]);
        for (const o of outer.filter((x) => x.from[0] === instanceId && x.from[1] === slot)) safeConnect(idOf.get(l.from[0]), l.from[1], o.to[0], o.to[1]);
      } else safeConnect(idOf.get(l.from[0]), l.from[1], idOf.get(l.to[0]), l.to[1]);
    }
    g.removeNode(instanceId);
    return made.map(([, node]) => node.id);
  });
}

/** Show (or stop showing) the inner widget `widget` of inner node `innerId` on the instance. */
export function setPromoted(instanceId, innerId, widget, on, objectInfo, value = undefined) {
  return edit(on ? `promote ${widget}` : `unpromote ${widget}`, (g) => {
    const old = g.nodes.get(instanceId);
    const definition = old && g.subgraphs.get(old.type);
    if (!definition) throw new Error(`node ${instanceId} is not a subgraph`);
    const node = { ...old, widgets: { ...old.widgets }, promoted: [...(old.promoted || [])] };
    const entry = { node: String(innerId), widget };
    const key = promotedKey(entry);
    node.promoted = node.promoted.filter((e) => promotedKey(e) !== key);
    if (on) {
      node.promoted.push(entry);
      const inner = (definition.nodes || []).find((n) => n.id === String(innerId));
      node.widgets[key] = structuredClone(value !== undefined ? value : (inner && inner.widgets || {})[widget]);
    } else delete node.widgets[key];
    g.nodes.set(instanceId, node); // a new object: the snapshot keeps the old one for undo
  });
}

/** The saved (NodeFlow) form of an opened subgraph, with its IO nodes "@in" and "@out". */
export function innerWorkflow(definition) {
  const io = definition.io_nodes || {};
  const box = (b, fallback) => (Array.isArray(b) ? [b[0], b[1]] : fallback);
  return {
    format: "nodeflow-workflow", version: 2, subgraphs: [],
    nodes: [{ id: IN, type: IO_TYPES[IN], pos: box(io.input, [-260, 0]), widgets: {} },
      { id: OUT, type: IO_TYPES[OUT], pos: box(io.output, [600, 0]), widgets: {} }, ...structuredClone(definition.nodes || [])],
    links: structuredClone(definition.links || []), groups: structuredClone(definition.groups || []), notes: structuredClone(definition.notes || []),
  };
}

/** An opened subgraph's graph -> the definition it edits (IO nodes become its io_nodes bounds). */
export function definitionFrom(graph, definition) {
  const json = graph.toJSON();
  const at = (id, fallback) => { const n = graph.nodes.get(id); return n ? [n.pos[0], n.pos[1], n.size[0], n.size[1]] : fallback; };
  const inputs = [...(definition.inputs || [])];
  const outputs = [...(definition.outputs || [])];
  const plus = inputs.length; // links from the "+" slot of the inputs node: one new input for them all
  const takenIn = new Set(inputs.map((s) => s.name));
  const takenOut = new Set(outputs.map((s) => s.name));
  let added = null;
  const links = json.links.map((l) => {
    if (l.from[0] === IN && l.from[1] === plus) {
      if (added === null) {
        const type = l.type && l.type !== "*" ? l.type : graph.inputType(l.to[0], l.to[1]) || "*"; // typed by what it feeds
        added = inputs.length;
        inputs.push({ id: newSubgraphId(), name: uniqueName(l.to[1], takenIn), type });
      }
      return { ...l, from: [IN, added] };
    }
    if (l.to[0] === OUT && l.to[1] === NEW_SLOT) {
      const source = graph.nodes.get(l.from[0]);
      const name = uniqueName(((source && source.outputs[l.from[1]]) || {}).name || l.type, takenOut);
      outputs.push({ id: newSubgraphId(), name, type: l.type || "*" });
      return { ...l, to: [OUT, name] };
    }
    return l;
  });
  return {
    ...definition, inputs, outputs,
    nodes: json.nodes.filter((n) => n.id !== IN && n.id !== OUT),
    links, groups: json.groups, notes: json.notes || [],
    io_nodes: { input: at(IN, (definition.io_nodes || {}).input), output: at(OUT, (definition.io_nodes || {}).output) },
  };
}

/** Replace the definitions map (one undo step): leaving an opened subgraph commits its edits so. */
export function setDefinitions(definitions, label = "edit subgraph", objectInfo = null) {
  return edit(label, (g) => {
    const before = g.subgraphs;
    g.subgraphs = new Map(definitions);
    if (objectInfo) refreshInstances(g, before, objectInfo);
  });
}

const signature = (d) => JSON.stringify([(d.inputs || []).map((s) => [s.name, s.type]), (d.outputs || []).map((s) => [s.name, s.type])]);

/** Instances whose definition gained or lost inputs/outputs get new sockets (values, modes and the
 * links that still fit are kept). New node objects: the old ones stay in the undo snapshot. */
function refreshInstances(g, before, objectInfo) {
  for (const old of [...g.nodes.values()]) {
    const definition = g.subgraphs.get(old.type);
    const previous = before.get(old.type);
    if (!definition || !previous || signature(definition) === signature(previous)) continue;
    const info = subgraphInfo(definition, g.subgraphs, objectInfo, old.promoted || []);
    const node = g.makeNode(old.type, info, old.pos, old.id);
    Object.assign(node, { title: old.title, mode: old.mode, collapsed: old.collapsed, color: old.color, size: [...old.size],
      controls: { ...old.controls }, ...(old.promoted ? { promoted: [...old.promoted] } : {}) });
    for (const [name, value] of Object.entries(old.widgets)) if (name in node.widgets) node.widgets[name] = value;
    for (const input of old.inputs) if (input.widget) g.convertOnLoad(node, info, input.name);
    g.nodes.set(old.id, node);
    for (const link of [...g.links.values()]) {
      const gone = (link.to[0] === old.id && !node.inputs.some((i) => i.name === link.to[1]))
        || (link.from[0] === old.id && link.from[1] >= node.outputs.length);
      if (gone) g.links.delete(link.id);
    }
  }
}

/** Flat ids of the output nodes under `node` ("a:b" for nested), for partial execution. */
export function outputTargets(graph, node, objectInfo, prefix = "", depth = 0) {
  const definition = graph.subgraphs.get(node.type);
  if (!definition) return (objectInfo[node.type] || {}).output_node ? [prefix + node.id] : [];
  if (depth > 32 || node.mode === "muted") return [];
  return (definition.nodes || []).flatMap((inner) => outputTargets(graph, inner, objectInfo, `${prefix}${node.id}:`, depth + 1));
}

/** Which node of the shown graph a run event's node id (maybe "outer:inner") belongs to. */
export function shownNode(graph, id, prefix = "") {
  if (id === null || id === undefined) return id;
  let rest = String(id);
  if (prefix) { if (!rest.startsWith(prefix)) return null; rest = rest.slice(prefix.length); }
  if (graph.nodes.has(rest)) return rest;
  const head = rest.split(":")[0];
  return graph.nodes.has(head) ? head : null;
}

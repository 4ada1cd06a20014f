// Graph -> API prompt ({id: {class_type, inputs, _meta}}): muted nodes left out, bypassed nodes
// passed through (each input feeds the output of the same type); editor-only nodes (notes,
// reroutes) never appear, links through reroutes go to their real source. A node without its own
// title is titled with its display name, as in ComfyUI. nodeflow/workflow/to_api.py builds the same
// prompt on the server; tests/workflow/test_prompt_builders_agree.py runs both on the same workflows.
import { isEditorOnly } from "./editor_nodes.js";

export function buildPrompt(graph, objectInfo = {}) {
  const incoming = new Map();
  for (const link of graph.links.values()) {
    if (!incoming.has(link.to[0])) incoming.set(link.to[0], new Map());
    incoming.get(link.to[0]).set(link.to[1], link);
  }
  const sourceOf = (nodeId, slot, wanted, seen = new Set()) => {
    const node = graph.nodes.get(nodeId);
    if (!node || seen.has(nodeId) || node.missing || node.mode === "muted") return null;
    if (node.type === "PrimitiveNode") return [nodeId, slot];
    if (node.type === "Reroute") {
      seen.add(nodeId);
      const link = (incoming.get(nodeId) || new Map()).get("input");
      return link ? sourceOf(link.from[0], link.from[1], wanted, seen) : null;
    }
    if (node.mode === "bypassed") {
      seen.add(nodeId);
      const want = wanted || (node.outputs[slot] && node.outputs[slot].type);
      for (const link of (incoming.get(nodeId) || new Map()).values()) {
        if (link.type === want) return sourceOf(link.from[0], link.from[1], want, seen);
      }
      return null;
    }
    return [nodeId, slot];
  };
  const prompt = {};
  for (const node of graph.nodes.values()) {
    if (node.mode !== "active" || node.missing || isEditorOnly(node.type)) continue;
    const inputs = {};
    const local = new Set((node.extraWidgets || []).filter((w) => w.inPrompt === false).map((w) => w.name)); // extension widgets kept out
    for (const [name, value] of Object.entries(node.widgets)) if (!local.has(name)) inputs[name] = Array.isArray(value) ? { __value__: value } : value;
    for (const [name, link] of incoming.get(node.id) || new Map()) {
      const source = sourceOf(link.from[0], link.from[1], link.type);
      const from = source && graph.nodes.get(source[0]);
      if (from && from.type === "PrimitiveNode") { // editor-only: its value goes in as a literal
        if ("value" in from.widgets) inputs[name] = Array.isArray(from.widgets.value) ? { __value__: from.widgets.value } : from.widgets.value;
      } else if (source) inputs[name] = source;
    }
    prompt[node.id] = { class_type: node.type, inputs, _meta: { title: node.title || objectInfo[node.type]?.display_name || node.type } };
  }
  return prompt;
}

/** After a queue: apply control_after_generate to seed-like widgets. Returns changed names. */
export function applyControls(graph, specsOf, random = Math.random) {
  const changed = [];
  for (const node of graph.nodes.values()) {
    for (const [name, mode] of Object.entries(node.controls)) {
      const spec = specsOf(node.type, name, node);
      const opts = (spec && spec[1]) || {};
      const min = opts.min ?? 0;
      const max = Math.min(opts.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      let value = Number(node.widgets[name]) || 0;
      if (mode === "increment") value = Math.min(max, value + 1);
      else if (mode === "decrement") value = Math.max(min, value - 1);
      else if (mode === "randomize") value = Math.floor(min + random() * (Math.min(max, 2 ** 50) - min));
      else continue;
      node.widgets[name] = value;
      changed.push([node.id, name]);
    }
  }
  return changed;
}

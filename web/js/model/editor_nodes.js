// Editor-only nodes: they live on the canvas but never run and never reach the API prompt.
// Notes are saved as the workflow's `notes`, reroutes as `via` points on the links through them
// (the NodeFlow format), so saved files stay valid for the server and the converters.
import { nodeInfo } from "./subgraphs.js";

export const EDITOR_NODES = {
  Note: {
    input: { required: { text: ["STRING", { multiline: true, default: "" }] } }, input_order: { required: ["text"] },
    output: [], output_name: [], category: "utils", display_name: "Note", editor: "note", default_size: [320, 160],
    description: "A text note on the canvas; never executes.",
  },
  MarkdownNote: {
    input: { required: { text: ["STRING", { multiline: true, default: "" }] } }, input_order: { required: ["text"] },
    output: [], output_name: [], category: "utils", display_name: "Markdown Note", editor: "note", default_size: [320, 160],
    description: "A note kept as markdown source; never executes.",
  },
  PrimitiveNode: {
    input: { required: {} }, input_order: { required: [] }, output: ["*"], output_name: ["connect to widget input"],
    category: "utils", display_name: "Primitive", editor: "primitive", default_size: [260, 80],
    description: "One value feeding widget inputs (converted widgets) of other nodes; takes the first one's type.",
  },
  Reroute: {
    input: { required: { input: ["*"] } }, input_order: { required: ["input"] }, output: ["*"], output_name: [""],
    category: "utils", display_name: "Reroute", editor: "reroute", default_size: [40, 22],
    description: "A bend point for links; passes its input through.",
  },
};

export const isEditorOnly = (type) => Object.hasOwn(EDITOR_NODES, type);
export const editorKind = (type) => (isEditorOnly(type) ? EDITOR_NODES[type].editor : null);

/** The converted-widget input a PrimitiveNode feeds first ({name, type, spec, widget}), or null. */
export function primitiveTarget(graph, nodeId) {
  for (const link of graph.links.values()) {
    if (link.from[0] !== nodeId) continue;
    const target = graph.nodes.get(link.to[0]);
    const input = target && target.inputs.find((i) => i.name === link.to[1]);
    if (input && input.spec) return { node: target, input };
  }
  return null;
}

/** The /object_info entry a node is drawn and edited with: a PrimitiveNode borrows its target's spec. */
export function effectiveInfo(graph, node, objectInfo) {
  const sub = nodeInfo(graph, node, objectInfo); // a subgraph instance, or the inputs/outputs inside one
  if (sub) return sub;
  const info = objectInfo[node.type] || EDITOR_NODES[node.type];
  if (node.type !== "PrimitiveNode") return info;
  const target = primitiveTarget(graph, node.id);
  if (!target) return info;
  return { ...info, input: { required: { value: target.input.spec } }, input_order: { required: ["value"] },
    output: [target.input.type], output_name: [target.input.name] };
}

/** Connecting a PrimitiveNode for the first time: it takes the target widget's value. Returns an undo. */
export function adoptTargetValue(graph, fromId, toId, inputName) {
  const source = graph.nodes.get(fromId);
  const target = graph.nodes.get(toId);
  if (!source || source.type !== "PrimitiveNode" || !target || "value" in source.widgets) return () => {};
  source.widgets.value = structuredClone(target.widgets[inputName]);
  const input = target.inputs.find((i) => i.name === inputName);
  const control = input && input.spec && (input.spec[1] || {}).control_after_generate && !source.controls.value;
  if (control) source.controls.value = target.controls[inputName] || "fixed";
  return () => { delete source.widgets.value; if (control) delete source.controls.value; };
}

/** Where the value on (nodeId, slot) really comes from, following reroutes back. */
export function upstream(graph, nodeId, slot, seen = new Set()) {
  const node = graph.nodes.get(nodeId);
  if (!node || seen.has(nodeId)) return null;
  if (node.type !== "Reroute") return [nodeId, slot];
  seen.add(nodeId);
  const link = graph.linkInto(nodeId, "input");
  return link ? upstream(graph, link.from[0], link.from[1], seen) : null;
}

/** Saved form: note nodes -> notes, reroutes folded into the `via` points of the links they carry. */
export function exportEditorNodes(graph, json) {
  const kind = (id) => editorKind((graph.nodes.get(id) || {}).type);
  const notes = [];
  for (const node of graph.nodes.values()) {
    if (kind(node.id) === "note") {
      notes.push({ id: node.id, text: String(node.widgets.text ?? ""), pos: [...node.pos], size: [...node.size],
        markdown: node.type === "MarkdownNote", ...(node.title ? { title: node.title } : {}),
        ...(node.color ? { color: node.color } : {}), ...(node.bgcolor ? { bgcolor: node.bgcolor } : {}) });
    }
  }
  const links = [];
  for (const link of json.links) {
    if (kind(link.to[0]) === "reroute") continue;
    const via = [];
    let from = link.from;
    const seen = new Set();
    while (from && kind(from[0]) === "reroute" && !seen.has(from[0])) {
      seen.add(from[0]);
      via.unshift([...graph.nodes.get(from[0]).pos]);
      const up = graph.linkInto(from[0], "input");
      from = up ? up.from : null;
    }
    if (!from) continue; // a reroute chain fed by nothing carries nothing
    links.push({ ...link, from: [...from], type: graph.outputType(from[0], from[1]) ?? link.type, ...(via.length ? { via } : {}) });
  }
  // A primitive's value is also written into the widgets it feeds, so the file runs without the editor.
  const saved = new Map(json.nodes.map((n) => [n.id, n]));
  for (const link of links) {
    const source = graph.nodes.get(link.from[0]);
    if (source && source.type === "PrimitiveNode" && saved.has(link.to[0]) && "value" in source.widgets) {
      saved.get(link.to[0]).widgets[link.to[1]] = structuredClone(source.widgets.value);
    }
  }
  json.nodes = json.nodes.filter((n) => !kind(n.id) || kind(n.id) === "primitive");
  json.links = links;
  json.notes = notes;
  return json;
}

/** Loading: notes become Note nodes, `via` points become shared Reroute nodes. Call after real nodes. */
export function importEditorNodes(graph, data, pending, failed = () => {}) {
  for (const note of data.notes || []) {
    const type = note.markdown ? "MarkdownNote" : "Note";
    const id = graph.nodes.has(String(note.id)) ? String(graph.nextNodeId) : String(note.id);
    const node = graph.makeNode(type, EDITOR_NODES[type], note.pos || [0, 0], id);
    node.widgets.text = String(note.text ?? "");
    if (note.size) node.size = [...note.size];
    if (note.title) node.title = String(note.title);
    if (note.color) node.color = String(note.color); // ComfyUI's note colours (title bar, body) are kept
    if (note.bgcolor) node.bgcolor = String(note.bgcolor);
    graph.addNode(node);
  }
  const reroutes = new Map(); // "[from, via prefix]" -> reroute node id (links through one point share it)
  for (const link of pending) {
    try {
      let source = [String(link.from[0]), link.from[1]];
      link.via.forEach((point, i) => {
        const key = JSON.stringify([link.from, link.via.slice(0, i + 1)]);
        if (!reroutes.has(key)) {
          const node = graph.addNode(graph.makeNode("Reroute", EDITOR_NODES.Reroute, point, String(graph.nextNodeId)));
          reroutes.set(key, node.id);
          graph.connect(source[0], source[1], node.id, "input");
        }
        source = [reroutes.get(key), 0];
      });
      graph.connect(source[0], source[1], String(link.to[0]), link.to[1], link.id);
    } catch {
      failed(link);
    }
  }
}

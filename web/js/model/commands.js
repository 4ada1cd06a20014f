// Every edit is a command with do/undo, run through a CommandStack (undo/redo).
import { adoptTargetValue } from "./editor_nodes.js";
import { widgetInput } from "./types.js";

export class CommandStack {
  constructor(graph, onChange = () => {}, limit = 500) {
    this.graph = graph;
    this.done = [];
    this.undone = [];
    this.onChange = onChange;
    this.limit = limit;
    this.open = null;     // the batch being collected (one undo step), or null
    this.savedAt = null;  // the command on top when the workflow was last saved
  }

  run(command) {
    command.do(this.graph);
    if (this.open) {
      this.open.commands.push(command);
    } else {
      const last = this.done[this.done.length - 1];
      if (last && last !== this.savedAt && command.mergeKey && last.mergeKey === command.mergeKey && last.merge) {
        last.merge(command); // coalesce drags and typing into one undo step
      } else {
        this.push(command);
      }
      this.undone = [];
    }
    this.onChange(command);
    return command;
  }

  /** Run `fn`; every command it runs becomes one undo step. Undone if `fn` throws. */
  batch(label, fn) {
    const outer = this.open;
    const group = compound(label, []);
    this.open = group;
    let result;
    try {
      result = fn();
    } catch (err) {
      for (const command of [...group.commands].reverse()) command.undo(this.graph);
      this.open = outer;
      this.onChange(group);
      throw err;
    }
    this.open = outer;
    if (group.commands.length) {
      if (outer) outer.commands.push(group);
      else { this.push(group); this.undone = []; }
    }
    return result;
  }

  push(command) {
    this.done.push(command);
    if (this.done.length > this.limit) this.done.shift();
  }

  undo() {
    const command = this.done.pop();
    if (!command) return false;
    command.undo(this.graph);
    this.undone.push(command);
    this.onChange(command);
    return true;
  }

  redo() {
    const command = this.undone.pop();
    if (!command) return false;
    command.do(this.graph);
    this.done.push(command);
    this.onChange(command);
    return true;
  }

  get top() { return this.done[this.done.length - 1] || null; }
  /** Remember the current state as saved; `dirty` is true once it differs. */
  markSaved() { this.savedAt = this.top; }
  get dirty() { return this.top !== this.savedAt; }
}

/** Several commands as one undo step (done in order, undone in reverse). */
export function compound(label, commands) {
  return {
    label, commands,
    do(g) { for (const c of this.commands) c.do(g); },
    undo(g) { for (const c of [...this.commands].reverse()) c.undo(g); },
  };
}

export function addNode(node) {
  return { label: `add ${node.type}`, do: (g) => g.addNode(node), undo: (g) => g.removeNode(node.id) };
}

export function removeNodes(ids) {
  let removed = [];
  return {
    label: `delete ${ids.length} node(s)`,
    do(g) { removed = ids.map((id) => g.removeNode(id)).filter(Boolean); },
    undo(g) {
      for (const { node } of removed) g.addNode(node);
      for (const { links } of removed) for (const link of links) if (!g.links.has(link.id)) g.links.set(link.id, link);
    },
  };
}

export function moveNodes(ids, dx, dy, mergeKey = null) {
  return {
    label: "move", dx, dy, mergeKey,
    do(g) { for (const id of ids) { const n = g.nodes.get(id); if (n) { n.pos[0] += this.dx; n.pos[1] += this.dy; } } },
    undo(g) { for (const id of ids) { const n = g.nodes.get(id); if (n) { n.pos[0] -= this.dx; n.pos[1] -= this.dy; } } },
    merge(other) { this.dx += other.dx; this.dy += other.dy; },
  };
}

export function connect(fromId, slot, toId, inputName) {
  let made = null;
  let replaced = null;
  let unadopt = () => {};
  return {
    label: "connect",
    do(g) {
      ({ link: made, replaced } = g.connect(fromId, slot, toId, inputName, made ? made.id : null));
      unadopt = adoptTargetValue(g, fromId, toId, inputName);
    },
    undo(g) { g.links.delete(made.id); if (replaced) g.links.set(replaced.id, replaced); unadopt(); },
  };
}

/** Show widget `name` as an input socket (so a link can feed it), or back (`toInput` false). */
export function convertWidget(nodeId, name, spec, toInput = true) {
  let index = -1;
  let entry = null;
  const apply = (g, on) => {
    const node = g.nodes.get(nodeId);
    if (on) node.inputs.splice(index < 0 ? node.inputs.length : index, 0, entry);
    else { index = node.inputs.findIndex((i) => i.name === name); entry = node.inputs[index]; node.inputs.splice(index, 1); }
  };
  return {
    label: toInput ? `convert ${name} to input` : `convert ${name} to widget`,
    do(g) {
      if (toInput) { entry = entry || widgetInput(name, spec); apply(g, true); } else apply(g, false);
    },
    undo(g) { apply(g, !toInput); },
  };
}


export function disconnect(linkId) {
  let link = null;
  return {
    label: "disconnect",
    do(g) { link = g.links.get(linkId); g.links.delete(linkId); },
    undo(g) { if (link) g.links.set(link.id, link); },
  };
}

export function setWidget(nodeId, name, value, mergeKey = null) {
  let before;
  return {
    label: `set ${name}`, mergeKey, value,
    do(g) { const n = g.nodes.get(nodeId); if (before === undefined) before = n.widgets[name]; n.widgets[name] = this.value; },
    undo(g) { g.nodes.get(nodeId).widgets[name] = before; },
    merge(other) { this.value = other.value; },
  };
}

export function setControl(nodeId, name, mode) {
  let before;
  return {
    label: `control ${name}`,
    do(g) { const n = g.nodes.get(nodeId); if (before === undefined) before = n.controls[name] ?? null; n.controls[name] = mode; },
    undo(g) { const n = g.nodes.get(nodeId); if (before === null) delete n.controls[name]; else n.controls[name] = before; },
  };
}

export function setProperty(nodeIds, key, value) {
  const before = new Map();
  return {
    label: `set ${key}`,
    do(g) { for (const id of nodeIds) { const n = g.nodes.get(id); if (!n) continue; if (!before.has(id)) before.set(id, n[key]); n[key] = value; } },
    undo(g) { for (const [id, old] of before) { const n = g.nodes.get(id); if (n) n[key] = old; } },
  };
}

export function resizeNode(nodeId, size, mergeKey = null) {
  let before = null;
  return {
    label: "resize", mergeKey, size,
    do(g) { const n = g.nodes.get(nodeId); if (!before) before = [...n.size]; n.size = [...this.size]; },
    undo(g) { g.nodes.get(nodeId).size = before; },
    merge(other) { this.size = other.size; },
  };
}

export function replaceGraph(load) {
  // Loading a workflow: one undoable step swapping everything.
  let before = null;
  return {
    label: "load workflow",
    do(g) { before = snapshot(g); restore(g, load); },
    undo(g) { restore(g, before); },
  };
}

/** What a whole-graph edit swaps (nodes, links, groups, subgraph definitions, id counters). */
export function snapshot(g) {
  return { nodes: new Map(g.nodes), links: new Map(g.links), groups: [...g.groups], subgraphs: new Map(g.subgraphs || []),
    nextNodeId: g.nextNodeId, nextLinkId: g.nextLinkId, nextGroupId: g.nextGroupId };
}

export function restore(g, s) {
  g.nodes = new Map(s.nodes);
  g.subgraphs = new Map(s.subgraphs || []);
  g.links = new Map(s.links);
  g.groups = [...s.groups];
  g.nextGroupId = s.nextGroupId;
  g.nextNodeId = s.nextNodeId;
  g.nextLinkId = s.nextLinkId;
}

// Every edit is a command with do/undo, run through a CommandStack (undo/redo).

export class CommandStack {
  constructor(graph, onChange = () => {}) {
    this.graph = graph;
    this.done = [];
    this.undone = [];
    this.onChange = onChange;
  }

  run(command) {
    command.do(this.graph);
    const last = this.done[this.done.length - 1];
    if (last && command.mergeKey && last.mergeKey === command.mergeKey && last.merge) {
      last.merge(command); // coalesce drags and typing into one undo step
    } else {
      this.done.push(command);
    }
    this.undone = [];
    this.onChange(command);
    return command;
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
  return {
    label: "connect",
    do(g) { ({ link: made, replaced } = g.connect(fromId, slot, toId, inputName, made ? made.id : null)); },
    undo(g) { g.links.delete(made.id); if (replaced) g.links.set(replaced.id, replaced); },
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

function snapshot(g) {
  return { nodes: new Map(g.nodes), links: new Map(g.links), groups: g.groups, notes: g.notes,
    nextNodeId: g.nextNodeId, nextLinkId: g.nextLinkId };
}

function restore(g, s) {
  g.nodes = new Map(s.nodes);
  g.links = new Map(s.links);
  g.groups = s.groups;
  g.notes = s.notes;
  g.nextNodeId = s.nextNodeId;
  g.nextLinkId = s.nextLinkId;
}

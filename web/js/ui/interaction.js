// Turns pointer and keyboard events on the canvas into commands; never draws.
import { connect, disconnect, moveNodes, resizeNode, setProperty } from "../model/commands.js";
import { copyNodes } from "../model/clipboard.js";
import { groupContents, moveGroup, resizeGroup } from "../model/groups.js";
import { typesMatch } from "../model/types.js";
import { TITLE_H, inside } from "../render/layout.js";
import { hitGroup, hitLinkHandle } from "./canvas_hits.js";
import { snapValue } from "./view_controls.js";

const SLOT_HIT = 10;

export class Interaction {
  constructor(app) {
    this.app = app;
    this.canvas = app.view.canvas;
    this.dragCounter = 0;
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.down(e));
    c.addEventListener("pointermove", (e) => { this.lastPointer = [e.clientX, e.clientY]; });
    window.addEventListener("pointermove", (e) => this.move(e));
    window.addEventListener("pointerup", (e) => this.up(e));
    c.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    c.addEventListener("dblclick", (e) => this.dblclick(e));
    c.addEventListener("contextmenu", (e) => this.contextmenu(e));
    window.addEventListener("keydown", (e) => this.key(e));
  }

  get state() { return this.app.state; }
  get graph() { return this.app.state.graph; }

  /** What is under graph point (x, y): {kind, node, ...} or null; topmost node first. */
  hit(x, y) {
    const nodes = [...this.graph.nodes.values()].reverse();
    for (const node of nodes) {
      const L = this.app.view.layoutOf(node);
      for (const out of L.outputs) if (Math.hypot(x - out.x, y - out.y) <= SLOT_HIT) return { kind: "output", node, slot: out.slot, type: out.type };
      for (const inp of L.inputs) if (Math.hypot(x - inp.x, y - inp.y) <= SLOT_HIT) return { kind: "input", node, input: inp.name, type: inp.type };
      if (!inside(x, y, { x: L.x - 4, y: L.y, w: L.w + 8, h: L.h })) continue;
      if (L.reroute) return { kind: "body", node, layout: L };
      if (!L.collapsed && x > L.x + L.w - 14 && y > L.y + L.h - 14) return { kind: "resize", node };
      for (const row of L.widgets) if (inside(x, y, row)) return { kind: "widget", node, row };
      if (y < L.y + TITLE_H && x < L.x + 22) return { kind: "collapse", node, layout: L };
      return { kind: y < L.y + TITLE_H ? "title" : "body", node, layout: L };
    }
    return null;
  }

  down(e) {
    this.app.closeOverlays();
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    if (e.button === 0 && e.altKey && this.startClone(e, x, y)) return;
    if (e.button === 1 || (e.button === 0 && e.altKey)) return this.startPan(e);
    if (e.button !== 0) return;
    this.canvas.setPointerCapture?.(e.pointerId);
    const hit = this.hit(x, y);
    const drag = { startClient: [e.clientX, e.clientY], start: [x, y], pointer: [x, y], moved: false };
    const link = !hit && hitLinkHandle(this.graph, this.app.view, x, y);
    const group = !hit && !link && hitGroup(this.graph, x, y);
    this.state.selectedGroup = group && group.kind !== "group-body" ? group.group.id : null;
    if (link) {
      this.app.menus.linkMenu(link, e.clientX, e.clientY);
      return;
    } else if (group && group.kind === "group-title") {
      if (!e.shiftKey && !e.ctrlKey) this.state.selection.clear();
      const { nodeIds, groupIds } = groupContents(this.graph, group.group);
      Object.assign(drag, { kind: "group-move", groupIds: [group.group.id, ...groupIds], ids: nodeIds, key: `group${++this.dragCounter}`,
        anchor: group.group, anchorStart: group.group.bounding.slice(0, 2) });
    } else if (group && group.kind === "group-resize") {
      Object.assign(drag, { kind: "group-resize", groupId: group.group.id, size: group.group.bounding.slice(2), key: `gsize${++this.dragCounter}` });
    } else if (!hit) {
      if (e.ctrlKey || e.shiftKey) Object.assign(drag, { kind: "select", additive: true });
      else { this.state.selection.clear(); Object.assign(drag, { kind: "pan", offset: [...this.graph.viewport.offset] }); }
    } else if (hit.kind === "output") {
      const relink = e.shiftKey && this.graph.linksFrom(hit.node.id, hit.slot).length > 0; // move all its links
      Object.assign(drag, { kind: "link", fromOutput: true, relink, nodeId: hit.node.id, slot: hit.slot, type: hit.type });
    } else if (hit.kind === "input") {
      const existing = this.graph.linkInto(hit.node.id, hit.input);
      if (existing) {  // detach and re-route from the same source; one undo step on drop
        Object.assign(drag, { kind: "link", fromOutput: true, nodeId: existing.from[0], slot: existing.from[1], type: existing.type, detach: existing.id });
      } else Object.assign(drag, { kind: "link", fromOutput: false, nodeId: hit.node.id, input: hit.input, type: hit.type });
    } else if (hit.kind === "resize" && !hit.node.pinned) {
      Object.assign(drag, { kind: "resize", nodeId: hit.node.id, size: [...hit.node.size], key: `resize${++this.dragCounter}` });
    } else if (hit.kind === "collapse") {
      this.app.run(setProperty([hit.node.id], "collapsed", !hit.node.collapsed));
      return;
    } else if (hit.kind === "widget") {
      Object.assign(drag, { kind: "widget", nodeId: hit.node.id, row: hit.row, value: hit.node.widgets[hit.row.name] });
    } else {
      if (!this.state.selection.has(hit.node.id)) {
        if (!e.shiftKey && !e.ctrlKey) this.state.selection.clear();
        this.state.selection.add(hit.node.id);
      } else if (e.ctrlKey) this.state.selection.delete(hit.node.id);
      if (hit.node.pinned) Object.assign(drag, { kind: "pinned" }); // selected, not moved
      else Object.assign(drag, { kind: "move", ids: this.movable([...this.state.selection]), key: `move${++this.dragCounter}`, anchor: hit.node, anchorStart: [...hit.node.pos] });
      this.raise(drag.ids || [hit.node.id], hit.node.id);
    }
    this.state.drag = drag;
    this.app.view.requestDraw();
  }

  /** Alt+drag on a node: a clone of it (of the selection, when it is selected) follows the pointer. */
  startClone(e, x, y) {
    const hit = this.hit(x, y);
    if (!hit || !(hit.kind === "title" || hit.kind === "body" || hit.kind === "widget")) return false;
    if (!this.state.selection.has(hit.node.id)) this.state.selection = new Set([hit.node.id]);
    const created = this.app.clipboard.insert(copyNodes(this.graph, [...this.state.selection]), { offset: [0, 0] }, "clone");
    const anchor = created.map((id) => this.graph.nodes.get(id))
      .find((n) => n.type === hit.node.type && n.pos[0] === hit.node.pos[0] && n.pos[1] === hit.node.pos[1]);
    if (!anchor) return true;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.state.drag = { kind: "move", startClient: [e.clientX, e.clientY], start: [x, y], pointer: [x, y], moved: false,
      ids: this.movable(created), key: `move${++this.dragCounter}`, anchor, anchorStart: [...anchor.pos] };
    this.app.view.requestDraw();
    return true;
  }

  /** The nodes of `ids` a drag may move: pinned ones stay put. */
  movable(ids) {
    return ids.filter((id) => !(this.graph.nodes.get(id) || {}).pinned);
  }

  /** Draw `ids` above every other node (the grabbed one on top); z-order is the node order. */
  raise(ids, top) {
    const nodes = this.graph.nodes;
    for (const id of [...ids.filter((i) => i !== top), top]) {
      const node = nodes.get(id);
      if (node) { nodes.delete(id); nodes.set(id, node); }
    }
  }

  startPan(e) {
    e.preventDefault();
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    this.state.drag = { kind: "pan", startClient: [e.clientX, e.clientY], start: [x, y], pointer: [x, y], offset: [...this.graph.viewport.offset] };
  }

  move(e) {
    const drag = this.state.drag;
    if (!drag) return;
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    drag.pointer = [x, y];
    if (Math.hypot(e.clientX - drag.startClient[0], e.clientY - drag.startClient[1]) > 3) drag.moved = true;
    const scale = this.graph.viewport.scale;
    if (drag.kind === "pan") {
      this.graph.viewport.offset = [drag.offset[0] + (e.clientX - drag.startClient[0]) / scale,
        drag.offset[1] + (e.clientY - drag.startClient[1]) / scale];
      this.app.viewChanged();
    } else if ((drag.kind === "move" || drag.kind === "group-move") && drag.moved) {
      // the grabbed node (or group) follows the pointer, on the grid when snapping; the rest move with it
      const s = this.app.settings;
      const now = drag.kind === "move" ? drag.anchor.pos : drag.anchor.bounding;
      const dx = snapValue(drag.anchorStart[0] + x - drag.start[0], s) - now[0];
      const dy = snapValue(drag.anchorStart[1] + y - drag.start[1], s) - now[1];
      if (dx || dy) this.app.run(drag.kind === "move" ? moveNodes(drag.ids, dx, dy, drag.key) : moveGroup(drag.groupIds, drag.ids, dx, dy, drag.key));
    } else if (drag.kind === "group-resize") {
      const s = this.app.settings;
      this.app.run(resizeGroup(drag.groupId, [Math.max(120, snapValue(drag.size[0] + x - drag.start[0], s)),
        Math.max(80, snapValue(drag.size[1] + y - drag.start[1], s))], drag.key));
    } else if (drag.kind === "resize") {
      const s = this.app.settings;
      this.app.run(resizeNode(drag.nodeId, [Math.max(180, snapValue(drag.size[0] + x - drag.start[0], s)),
        Math.max(60, snapValue(drag.size[1] + y - drag.start[1], s))], drag.key));
    } else if (drag.kind === "widget" && drag.moved && (drag.row.kind === "INT" || drag.row.kind === "FLOAT")) {
      this.app.widgets.drag(drag, e.clientX - drag.startClient[0]);
    }
    this.app.view.requestDraw();
  }

  up(e) {
    const drag = this.state.drag;
    if (!drag) return;
    this.state.drag = null;
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    if (drag.kind === "link") this.dropLink(drag, x, y, e);
    else if (drag.kind === "select") this.finishSelect(drag);
    else if (drag.kind === "widget" && !drag.moved) this.app.widgets.click(drag.nodeId, drag.row, x, e);
    this.app.view.requestDraw();
  }

  dropLink(drag, x, y, e) {
    if (drag.relink) return this.moveLinks(drag, this.hit(x, y));
    if (drag.detach === undefined) return this.dropNewLink(drag, x, y, e);
    const link = this.graph.links.get(drag.detach);
    const hit = this.hit(x, y);
    if (!link || (hit && hit.kind === "input" && hit.node.id === link.to[0] && hit.input === link.to[1])) return; // put back
    this.app.stack.batch("move link", () => {
      this.app.run(disconnect(drag.detach));
      this.dropNewLink(drag, x, y, e);
    });
  }

  dropNewLink(drag, x, y, e) {
    const hit = this.hit(x, y);
    if (drag.fromOutput) {
      let target = hit && hit.kind === "input" ? hit : null;
      if (!target && hit && (hit.kind === "body" || hit.kind === "title" || hit.kind === "widget")) {
        const free = hit.node.inputs.find((i) => typesMatch(drag.type, i.type) && !this.graph.linkInto(hit.node.id, i.name));
        const any = hit.node.inputs.find((i) => typesMatch(drag.type, i.type));
        const pick = free || any;
        if (pick) target = { node: hit.node, input: pick.name };
      }
      const problem = target && this.graph.connectProblem(drag.nodeId, drag.slot, target.node.id, target.input);
      if (target && !problem) {
        this.app.run(connect(drag.nodeId, drag.slot, target.node.id, target.input));
      } else if (!hit && drag.moved) {
        this.app.openSearch(e.clientX, e.clientY, { output: drag });
      } else if (hit && hit.node.id !== drag.nodeId && drag.moved) {
        this.refused(problem || `${this.title(hit.node)} has no input that takes ${drag.type}`);
      }
    } else {
      const source = hit && hit.kind === "output" ? hit : null;
      const problem = source && this.graph.connectProblem(source.node.id, source.slot, drag.nodeId, drag.input);
      if (source && !problem) {
        this.app.run(connect(source.node.id, source.slot, drag.nodeId, drag.input));
      } else if (!hit && drag.moved) {
        this.app.openSearch(e.clientX, e.clientY, { input: drag });
      } else if (hit && hit.node.id !== drag.nodeId && drag.moved) {
        this.refused(problem || `drop ${drag.input} on an output of ${this.title(hit.node)} that gives ${drag.type}`);
      }
    }
  }

  /** A link dropped where it cannot go: say why (it used to vanish without a word). */
  refused(reason) {
    this.app.toast(`Not connected: ${reason}`, "warning");
  }

  title(node) {
    const info = this.app.state.objectInfo[node.type];
    return node.title || (info && info.display_name) || node.type;
  }

  /** Shift-drag from an output onto another output (or node): every link moves to the new source. */
  moveLinks(drag, hit) {
    if (!hit || hit.node.id === drag.nodeId || !(hit.kind === "output" || hit.kind === "title" || hit.kind === "body")) return;
    const slot = hit.kind === "output" ? hit.slot : hit.node.outputs.findIndex((o) => typesMatch(o.type, drag.type));
    if (slot < 0) return;
    const links = this.graph.linksFrom(drag.nodeId, drag.slot);
    this.app.stack.batch("move links", () => {
      for (const link of links) {
        if (this.graph.canConnect(hit.node.id, slot, link.to[0], link.to[1])) this.app.run(connect(hit.node.id, slot, link.to[0], link.to[1]));
      }
    });
  }

  finishSelect(drag) {
    const [x1, y1] = drag.start;
    const [x2, y2] = drag.pointer;
    const box = { x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
    for (const node of this.graph.nodes.values()) {
      const L = this.app.view.layoutOf(node);
      if (L.x >= box.x && L.y >= box.y && L.x + L.w <= box.x + box.w && L.y + L.h <= box.y + box.h) this.state.selection.add(node.id);
    }
  }

  wheel(e) {
    e.preventDefault();
    const view = this.graph.viewport;
    const [gx, gy] = this.app.view.toGraph(e.clientX, e.clientY);
    const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.0015));
    view.scale = Math.min(4, Math.max(0.1, view.scale * factor));
    const rect = this.canvas.getBoundingClientRect();
    view.offset = [(e.clientX - rect.left) / view.scale - gx, (e.clientY - rect.top) / view.scale - gy];
    this.app.viewChanged();
  }

  dblclick(e) {
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    const hit = this.hit(x, y);
    const group = !hit && hitGroup(this.graph, x, y);
    if (group && group.kind === "group-title") this.app.menus.renameGroup(group.group, e.clientX, e.clientY);
    else if (!hit) this.app.openSearch(e.clientX, e.clientY);
    else if (hit.kind === "title" && !hit.layout.reroute) this.app.rename(hit.node.id, e.clientX, e.clientY);
  }

  contextmenu(e) {
    e.preventDefault();
    const [x, y] = this.app.view.toGraph(e.clientX, e.clientY);
    const hit = this.hit(x, y);
    if (hit && hit.kind === "widget" && !hit.row.control && !hit.row.upload && !hit.row.note) return this.app.menus.widgetMenu(hit.node, hit.row, e.clientX, e.clientY);
    if (hit && hit.kind === "input") return this.app.menus.inputMenu(hit.node, hit.input, e.clientX, e.clientY);
    if (hit && hit.node) return this.app.nodeMenu(hit.node, e.clientX, e.clientY);
    const link = hitLinkHandle(this.graph, this.app.view, x, y);
    if (link) return this.app.menus.linkMenu(link, e.clientX, e.clientY);
    const group = hitGroup(this.graph, x, y);
    if (group) return this.app.menus.groupMenu(group.group, e.clientX, e.clientY);
    this.app.libraryMenu(e.clientX, e.clientY);
  }

  key(e) {
    const target = e.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable)) return;
    if (e.key === "Escape" && this.state.drag && this.state.drag.kind === "link") { // cancel the link being dragged
      this.state.drag = null;
      this.app.view.requestDraw();
      return;
    }
    const action = this.app.actions.forEvent(e);
    if (!action) return;
    e.preventDefault();
    action.run();
    this.app.view.requestDraw();
  }

  /** Where the pointer last was over the canvas, in graph coordinates (the view centre before that). */
  pointerGraph() {
    if (this.lastPointer) return this.app.view.toGraph(...this.lastPointer);
    const rect = this.canvas.getBoundingClientRect();
    return this.app.view.toGraph(rect.left + rect.width / 2, rect.top + rect.height / 2);
  }
}



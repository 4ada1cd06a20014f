// Context menus for nodes, groups and links, and the inline text editor for titles.
// Every change goes through a command; titles are set as values and drawn as canvas text.
import { addNode, connect, convertWidget, disconnect, removeNodes, setProperty } from "../model/commands.js";
import { GROUP_COLORS, GROUP_TITLE_H, addGroup, boundsAround, groupContents, makeGroup, removeGroup, setGroup } from "../model/groups.js";
import { effectiveInfo } from "../model/editor_nodes.js";
import { linkMidpoint } from "../render/layout.js";
import { imageMenuItems } from "./image_previews.js";
import { showMenu } from "./menu.js";

export class ContextMenus {
  constructor(app) {
    this.app = app;
  }

  get graph() { return this.app.state.graph; }

  /** A one-line text field at (clientX, clientY); Enter or leaving it commits a changed value. */
  inlineEdit(value, clientX, clientY, commit) {
    const app = this.app;
    app.closeOverlays();
    const field = document.createElement("input");
    field.className = "widget-editor";
    field.value = value;
    Object.assign(field.style, { left: `${clientX}px`, top: `${clientY}px` });
    let done = false;
    const finish = (keep) => {
      if (done) return;
      done = true;
      if (keep && field.value && field.value !== value) commit(field.value);
      field.remove();
    };
    field.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    field.addEventListener("blur", () => finish(true));
    app.showOverlay(field);
    field.focus();
    field.select();
    return field;
  }

  renameNode(nodeId, clientX, clientY) {
    const node = this.graph.nodes.get(nodeId);
    const info = effectiveInfo(this.graph, node, this.app.state.objectInfo) || {}; // subgraph nodes: their name
    this.inlineEdit(node.title || info.display_name || node.type, clientX, clientY,
      (title) => this.app.run(setProperty([nodeId], "title", title)));
  }

  renameGroup(group, clientX, clientY) {
    const [sx, sy] = this.app.view.toScreen(group.bounding[0] + 6, group.bounding[1] + GROUP_TITLE_H / 2);
    this.inlineEdit(String(group.title ?? ""), clientX ?? sx, clientY ?? sy - 12, (title) => this.app.run(setGroup(group.id, "title", title)));
  }

  nodeMenu(node, clientX, clientY, lead = []) {
    const app = this.app;
    app.closeOverlays();
    const ids = app.state.selection.has(node.id) ? [...app.state.selection] : [node.id];
    const widgets = app.view.layout(node).widgets.filter((row) => !row.control && !row.upload && !row.note && !row.extension);
    const converted = node.inputs.filter((i) => i.widget);
    const items = [
      ...lead,
      { label: "Rename", run: () => this.renameNode(node.id, clientX, clientY) },
      { label: node.collapsed ? "Expand" : "Collapse", run: () => app.run(setProperty([node.id], "collapsed", !node.collapsed)) },
      { label: node.pinned ? "Unpin" : "Pin", run: () => app.run(setProperty(ids, "pinned", !node.pinned)) },
      { label: "Colour", children: [{ label: "none", run: () => app.run(setProperty(ids, "color", null)) },
        ...Object.entries(GROUP_COLORS).map(([name, color]) => ({ label: name, run: () => app.run(setProperty(ids, "color", color)) }))] },
      { label: node.mode === "muted" ? "Unmute" : "Mute", run: () => app.toggleMode(ids, "muted") },
      { label: node.mode === "bypassed" ? "Remove bypass" : "Bypass", run: () => app.toggleMode(ids, "bypassed") },
      { label: "Group selected nodes", run: () => this.groupSelection() },
      ...(widgets.length && node.type !== "PrimitiveNode" ? [{ label: "Convert widget to input", children: widgets.map((row) => this.toInputItem(node, row)) }] : []),
      ...(converted.length ? [{ label: "Convert input to widget", children: converted.map((i) => this.toWidgetItem(node, i.name)) }] : []),
      { label: "Delete", run: () => { app.run(removeNodes(ids)); app.state.selection.clear(); } },
    ];
    items.push(...imageMenuItems(app, node), ...app.extensionHost.menuItems(node));
    app.state.selection = new Set(ids);
    showMenu(app, clientX, clientY, items);
  }

  /** Right-click on a widget: convert it to an input, then the node's menu. */
  widgetMenu(node, row, clientX, clientY) {
    this.nodeMenu(node, clientX, clientY, node.type === "PrimitiveNode" || row.extension ? [] : [this.toInputItem(node, row)]);
  }

  /** Right-click on an input: a converted widget can go back to being a widget. */
  inputMenu(node, name, clientX, clientY) {
    const input = node.inputs.find((i) => i.name === name);
    this.nodeMenu(node, clientX, clientY, input && input.widget ? [this.toWidgetItem(node, name)] : []);
  }

  toInputItem(node, row) {
    return { label: `Convert ${row.name} to input`, run: () => this.app.run(convertWidget(node.id, row.name, row.spec, true)) };
  }

  toWidgetItem(node, name) {
    return { label: `Convert ${name} to widget`, run: () => this.app.stack.batch(`convert ${name} to widget`, () => {
      const link = this.graph.linkInto(node.id, name);
      if (link) this.app.run(disconnect(link.id));
      this.app.run(convertWidget(node.id, name, null, false));
    }) };
  }

  groupMenu(group, clientX, clientY) {
    const app = this.app;
    app.closeOverlays();
    app.state.selectedGroup = group.id;
    const colors = Object.entries(GROUP_COLORS).map(([name, color]) => ({ label: name, run: () => app.run(setGroup(group.id, "color", color)) }));
    showMenu(app, clientX, clientY, [
      { label: "Edit title", run: () => this.renameGroup(group, clientX, clientY) },
      { label: "Colour", children: colors },
      { label: "Fit to contents", run: () => this.fitGroup(group) },
      { label: "Select nodes in group", run: () => { app.state.selection = new Set(groupContents(this.graph, group).nodeIds); } },
      { label: "Remove group (keep nodes)", run: () => { app.run(removeGroup(group.id)); app.state.selectedGroup = null; } },
    ]);
  }

  linkMenu(link, clientX, clientY) {
    const app = this.app;
    app.closeOverlays();
    showMenu(app, clientX, clientY, [
      { label: "Add reroute", run: () => this.addReroute(link) },
      { label: "Delete link", run: () => app.run(disconnect(link.id)) },
    ]);
  }

  /** A Reroute node in the middle of `link`: source -> reroute -> target, one undo step. */
  addReroute(link) {
    const app = this.app;
    const view = app.view;
    const [mx, my] = linkMidpoint(view.slotPoint(link.from[0], "out", link.from[1]), view.slotPoint(link.to[0], "in", link.to[1]));
    const node = this.graph.makeNode("Reroute", app.state.objectInfo.Reroute, [mx - 20, my - 11]);
    app.stack.batch("add reroute", () => {
      app.run(addNode(node));
      app.run(connect(link.from[0], link.from[1], node.id, "input"));
      app.run(connect(node.id, 0, link.to[0], link.to[1]));
    });
    return node;
  }

  /** Ctrl+G: a group around the selected nodes (and the groups whose nodes are all selected). */
  groupSelection(title = "Group") {
    const app = this.app;
    const ids = [...app.state.selection].filter((id) => this.graph.nodes.has(id));
    if (!ids.length) { app.toast("Select the nodes to group first", "warning"); return null; }
    const rects = ids.map((id) => app.view.layout(this.graph.nodes.get(id)));
    const chosen = new Set(ids);
    const groups = this.graph.groups.filter((g) => { const inside = groupContents(this.graph, g).nodeIds; return inside.length && inside.every((id) => chosen.has(id)); });
    const group = makeGroup(this.graph, boundsAround(rects, groups), title);
    app.run(addGroup(group));
    app.state.selectedGroup = group.id;
    return group;
  }

  fitGroup(group) {
    const { nodeIds, groupIds } = groupContents(this.graph, group);
    const rects = nodeIds.map((id) => this.app.view.layout(this.graph.nodes.get(id)));
    const bounds = boundsAround(rects, this.graph.groups.filter((g) => groupIds.includes(g.id)));
    if (bounds) this.app.run(setGroup(group.id, "bounding", bounds));
  }
}

// Context menus: the node library by category (empty canvas) and a node's own menu. One submenu is
// open per level (entering another item closes it and everything under it); menus stay in the window.
import { keepInside } from "./place.js";

/** Remove `menu`'s open submenu and its own submenus. */
function closeChild(menu) {
  if (!menu.childMenu) return;
  closeChild(menu.childMenu);
  menu.childMenu.remove();
  menu.childMenu = null;
}

export function showMenu(app, clientX, clientY, items, flipX = null) {
  const menu = document.createElement("ul");
  menu.className = "context-menu";
  menu.childMenu = null;
  for (const item of items) {
    const entry = document.createElement("li");
    entry.textContent = item.label;
    if (item.children) {
      entry.className = "submenu";
      entry.addEventListener("pointerenter", () => {
        if (menu.childMenu && menu.childMenu.owner === entry) return;
        closeChild(menu);
        const rect = entry.getBoundingClientRect();
        const child = showMenu(app, rect.right, rect.top, item.children, menu.getBoundingClientRect().left);
        child.classList.add("child");
        child.owner = entry;
        menu.childMenu = child;
      });
    } else {
      entry.addEventListener("pointerenter", () => closeChild(menu));
      entry.addEventListener("pointerdown", (e) => { e.preventDefault(); app.closeOverlays(); item.run(); });
    }
    menu.append(entry);
  }
  app.showOverlay(menu);
  keepInside(menu, clientX, clientY, flipX);
  return menu;
}

/** {category path: [node names]} turned into nested menu items. */
export function libraryItems(app, clientX, clientY) {
  const root = { children: new Map(), nodes: [] };
  for (const [name, info] of Object.entries(app.state.objectInfo)) {
    let level = root;
    for (const part of (info.category || "misc").split("/")) {
      if (!level.children.has(part)) level.children.set(part, { children: new Map(), nodes: [] });
      level = level.children.get(part);
    }
    level.nodes.push([name, info]);
  }
  const [gx, gy] = app.view.toGraph(clientX, clientY);
  const build = (level) => [
    ...[...level.children.entries()].sort().map(([label, child]) => ({ label, children: build(child) })),
    ...level.nodes.sort((a, b) => a[0].localeCompare(b[0])).map(([name, info]) => ({
      label: info.display_name || name, run: () => app.addNodeAt(name, gx, gy) })),
  ];
  return build(root);
}

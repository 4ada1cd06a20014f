// The errors panel of the active tab: validation and run errors of the prompts that tab queued.
// Each entry names the node by title and id; clicking it brings that node into view and selects it.
// Switching tabs shows the other tab's errors (kept in tab.runtime.errorList); × hides them.

export class ErrorsPanel {
  constructor(app, element) {
    this.app = app;
    this.element = element;
    const close = document.createElement("button");
    close.className = "panel-close";
    close.textContent = "×";
    close.title = "Hide these errors";
    close.addEventListener("click", () => this.set(app.tabs.active, []));
    element.querySelector("h2").append(close);
  }

  /** Replace `tab`'s error list: [{node, title, message}] (node null for a prompt-wide error). */
  set(tab, errors) {
    if (!tab) return;
    tab.runtime.errorList = errors;
    if (tab === this.app.tabs.active) this.render();
  }

  add(tab, error) { this.set(tab, [...(tab.runtime.errorList || []).filter((e) => e.node !== error.node || e.message !== error.message), error]); }

  render() {
    const tab = this.app.tabs.active;
    const errors = (tab && tab.runtime.errorList) || [];
    this.element.querySelector("ul").replaceChildren(...errors.map(({ node, title, message }) => {
      const li = document.createElement("li");
      const strong = document.createElement("strong");
      strong.textContent = node ? `#${node} ${title || ""}` : "Prompt";
      const text = document.createElement("span");
      text.textContent = ` ${message}`;
      li.append(strong, text);
      if (node) {
        li.dataset.node = node;
        li.className = "jump";
        li.title = "Show this node";
        li.addEventListener("click", () => focusNode(this.app, node));
      }
      return li;
    }));
    this.element.hidden = errors.length === 0;
  }
}

/** Centre the view on node `id` and select it. */
export function focusNode(app, id) {
  const node = app.state.graph.nodes.get(String(id));
  if (!node) { app.toast(`Node #${id} is not in this workflow`, "warning"); return false; }
  const L = app.view.layout(node);
  const viewport = app.state.graph.viewport;
  const { clientWidth, clientHeight } = app.view.canvas;
  viewport.scale = Math.max(viewport.scale, 0.6);
  viewport.offset = [clientWidth / viewport.scale / 2 - (L.x + L.w / 2), clientHeight / viewport.scale / 2 - (L.y + L.h / 2)];
  app.state.selection = new Set([node.id]);
  app.viewChanged();
  return true;
}

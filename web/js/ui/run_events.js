// Websocket run events -> the run results of the tab that queued the prompt (progress, images,
// texts, errors), the overall progress bar and the status light.
import { shownNode } from "../model/subgraphs.js";

const $ = (id) => document.getElementById(id);

export class RunEvents {
  constructor(app) {
    this.app = app;
    this.promptTabs = new Map();  // prompt_id -> tab that queued it
    this.promptNodes = new Map(); // prompt_id -> node count, for the overall progress bar
    this.running = null;          // {id, done, tab}
  }

  queued(promptId, tab, nodeCount) {
    this.promptTabs.set(promptId, tab);
    this.promptNodes.set(promptId, nodeCount);
  }

  /** The node of the graph on screen that shows run events of node `id` ("12:3" shows on instance 12). */
  shown(tab, id) {
    const app = this.app;
    const inside = tab === app.tabs.active && app.subgraphs ? app.subgraphs.prefix : "";
    return shownNode(inside ? app.state.graph : tab.graph, id, inside) ?? String(id);
  }

  tabOf(d) { return (d && this.promptTabs.get(d.prompt_id)) || (this.running && this.running.tab) || this.app.tabs.active; }

  bind() {
    const app = this.app;
    const on = (type, handler) => app.api.addEventListener(type, (e) => { handler(e.detail); app.view.requestDraw(); });
    on("connected", () => { $("status").textContent = "connected"; $("status").className = "ok"; });
    on("disconnected", () => { $("status").textContent = "reconnecting…"; $("status").className = "bad"; });
    on("ws:status", (d) => {
      app.queueStatus.setRemaining(d && d.status && d.status.exec_info ? d.status.exec_info.queue_remaining : 0);
      app.queuePanel.refresh();
    });
    on("ws:execution_start", (d) => {
      this.running = { id: d.prompt_id, done: 0, tab: this.tabOf(d) };
      this.running.tab.runtime.previews.clear();
      this.overall(0);
    });
    on("ws:execution_cached", (d) => { if (this.running) this.running.done += d.nodes.length; this.overall(); });
    on("ws:executing", (d) => {
      const runtime = this.tabOf(d).runtime;
      if (runtime.executing) { runtime.progress.delete(runtime.executing); if (this.running) this.running.done += 1; }
      runtime.executing = d.node === null ? null : this.shown(this.tabOf(d), d.node);
      if (d.node === null) {
        app.queueStatus.done(d.prompt_id);
        this.running = null;
        this.overall(null);
        app.queuePanel.refresh();
        app.finished?.(d.prompt_id);
      } else this.overall();
    });
    on("ws:progress", (d) => this.tabOf(d).runtime.progress.set(this.shown(this.tabOf(d), d.node), { value: d.value, max: d.max }));
    on("ws:executed", (d) => {
      const tab = this.tabOf(d);
      const id = this.shown(tab, d.node);
      const node = tab.graph.nodes.get(String(d.node));
      const output = d.output || {};
      if (output.images) tab.runtime.images.set(id, output.images.map((img) => app.api.viewUrl(img)));
      if (output.text) tab.runtime.texts.set(id, output.text.join("\n"));
      if (node) app.extensionHost.executed(node, output);
    });
    on("ws:execution_error", (d) => {
      const tab = this.tabOf(d);
      const id = this.shown(tab, d.node_id);
      const message = `${d.exception_type}: ${d.exception_message}`;
      tab.runtime.errors.set(id, message);
      const node = tab.graph.nodes.get(id);
      const info = app.state.objectInfo[d.node_type] || {};
      app.errorsPanel.add(tab, { node: id, title: node ? node.title || info.display_name || node.type : d.node_type, message });
      app.queueStatus.done(d.prompt_id);
    });
    on("ws:execution_interrupted", (d) => { app.queueStatus.done(d && d.prompt_id); app.toast("Interrupted", "warning"); });
    on("preview", async (blob) => {
      const runtime = this.tabOf(null).runtime;
      const node = runtime.executing;  // read before awaiting: later "executing" messages must not take it
      if (!node) return;
      const bitmap = await createImageBitmap(blob);
      runtime.previews.set(node, bitmap);
      app.view.requestDraw();
    });
    on("text", (d) => { const runtime = this.tabOf(null).runtime; runtime.texts.set(d.node, (runtime.texts.get(d.node) || "") + d.text); });
  }

  overall(value) {
    const bar = $("overall-progress");
    if (value === null) { bar.style.width = "0"; return; }
    const total = this.running ? this.promptNodes.get(this.running.id) || 1 : 1;
    const done = this.running ? this.running.done : 0;
    bar.style.width = `${Math.min(100, (100 * done) / total)}%`;
    if (this.running) this.app.queueStatus.progress(this.running.tab, done / total);
  }
}

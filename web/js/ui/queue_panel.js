// The queue panel: running and pending prompts, cancel one, clear; the workers (with --ray, one row per
// Ray worker: node, device, memory, loaded models, current prompt).

import { renderWorkers } from "./workers_panel.js";

export class QueuePanel {
  constructor(app, element) {
    this.app = app;
    this.element = element;
  }

  async refresh() {
    let queue;
    try { queue = await this.app.api.queue(); } catch { return; }
    const rows = [];
    const add = (item, running) => {
      const li = document.createElement("li");
      li.className = running ? "q-running" : "q-pending"; // a CSS dot, no emoji font needed
      const label = document.createElement("span");
      label.textContent = `${running ? "running" : "pending"} #${item[0]} · ${Object.keys(item[2]).length} nodes`;
      const cancel = document.createElement("button");
      cancel.textContent = running ? "Interrupt" : "Cancel";
      cancel.addEventListener("click", async () => {
        if (running) await this.app.api.interrupt(item[1]); else await this.app.api.deleteQueued([item[1]]);
        this.refresh();
      });
      li.append(label, cancel);
      rows.push(li);
    };
    queue.queue_running.forEach((item) => add(item, true));
    queue.queue_pending.forEach((item) => add(item, false));
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "The queue is empty.";
      rows.push(li);
    }
    this.element.querySelector("ul").replaceChildren(...rows);
    let workers = null;
    try { workers = await this.app.api.workers(); } catch { /* an older server: no workers list */ }
    renderWorkers(this.element.querySelector(".workers"), workers, queue);
  }
}

// Queue feedback: the queue size in the toolbar (websocket "status"), the running prompt's progress
// in its tab and in the browser title, a tab's "queued" marker while its prompts wait, and the
// message when queueing fails.

const $ = (id) => document.getElementById(id);
const BASE_TITLE = "NodeFlow";

export class QueueStatus {
  constructor(app) {
    this.app = app;
    this.remaining = 0;
    this.waiting = new Map(); // prompt_id -> tab, queued and not finished
  }

  /** The server's queue_remaining (running + pending prompts). */
  setRemaining(count) {
    this.remaining = Math.max(0, Number(count) || 0);
    const el = $("queue-size");
    el.textContent = `Queue: ${this.remaining}`;
    el.classList.toggle("busy", this.remaining > 0);
    el.title = this.remaining ? `${this.remaining} prompt${this.remaining === 1 ? "" : "s"} running or waiting` : "The queue is empty";
    if (!this.remaining && this.waiting.size) { // cleared or finished: no tab is waiting any more
      this.waiting.clear();
      for (const tab of this.app.tabs.tabs) tab.run = null;
      this.paintAll();
      this.title();
    }
    this.app.autoQueue?.settled();
  }

  queued(promptId, tab) {
    this.waiting.set(promptId, tab);
    this.app.autoQueue?.armed();
    this.paint(tab);
  }

  done(promptId) {
    const tab = this.waiting.get(promptId);
    this.waiting.delete(promptId);
    if (tab) { tab.run = null; this.paint(tab); }
    this.title();
    this.app.autoQueue?.settled();
  }

  /** The running prompt of `tab` is `fraction` done (0..1). */
  progress(tab, fraction) {
    if (!tab) return;
    tab.run = { fraction: Math.max(0, Math.min(1, fraction)) };
    this.paint(tab);
    this.title();
  }

  title() {
    const running = this.app.tabs.tabs.find((t) => t.run);
    document.title = running ? `[${Math.round(running.run.fraction * 100)}%] ${running.name} · ${BASE_TITLE}` : BASE_TITLE;
  }

  /** The tab's marker: a percentage while it runs, "queued" while its prompts wait. */
  paint(tab) {
    const item = document.querySelector(`#tabs [data-tab="${tab.id}"]`);
    if (!item) return;
    const waiting = [...this.waiting.values()].includes(tab);
    const marker = item.querySelector(".tab-run");
    item.classList.toggle("running", !!tab.run);
    item.classList.toggle("queued", !tab.run && waiting);
    item.style.setProperty("--run", tab.run ? `${Math.round(tab.run.fraction * 100)}%` : "0%");
    if (marker) marker.textContent = tab.run ? `${Math.round(tab.run.fraction * 100)}%` : waiting ? "queued" : "";
  }

  paintAll() { for (const tab of this.app.tabs.tabs) this.paint(tab); }

  /** Queueing failed: say why where it cannot be missed (toast and the errors panel). */
  failed(err) {
    const unreachable = !err.status;
    const message = unreachable
      ? `The server is not reachable (${err.message}); nothing was queued. Start NodeFlow again, then queue.`
      : `The server refused the prompt: ${err.message}`;
    this.app.toast(`Queue failed: ${message}`, "error");
    return message;
  }
}

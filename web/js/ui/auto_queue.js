// Auto Queue (ComfyUI's "Queue (Instant)" / "Queue (On Change)"): a mode beside the Queue button.
// "instant": when the server's queue empties, the workflow is queued again (queue it once to start);
// "change": an edit queues the workflow once the queue is empty (edits made during a run queue it after).
// The mode is per page, off at every start (a forgotten loop never runs on its own).

export const AUTO_QUEUE_MODES = ["off", "instant", "change"];

export class AutoQueue {
  constructor(app, select) {
    this.app = app;
    this.select = select;
    this.mode = "off";
    this.pendingChange = false;
    this.queueing = false;
    select.replaceChildren(...AUTO_QUEUE_MODES.map((mode) => {
      const option = document.createElement("option");
      option.value = mode;
      option.textContent = mode === "off" ? "Auto: off" : mode === "instant" ? "Auto: instant" : "Auto: on change";
      return option;
    }));
    select.addEventListener("change", () => this.setMode(select.value));
  }

  setMode(mode) {
    this.mode = AUTO_QUEUE_MODES.includes(mode) ? mode : "off";
    this.select.value = this.mode;
    this.select.classList.toggle("active", this.mode !== "off");
    this.pendingChange = false;
    this.running = false;
    clearInterval(this.watch);
    this.watch = null;
  }

  /** A prompt was queued (by hand or by this): "instant" runs on from the first one after it was turned on. */
  armed() {
    if (this.mode !== "instant") return;
    this.running = true;
    // a safety net for events that crossed (a run finished before its POST answered): look again each second
    if (!this.watch) this.watch = setInterval(() => { if (this.mode === "instant" && this.running) this.settled(); }, 1000);
  }

  /** The queue may have emptied (a status with nothing left, or one of ours finished): queue again when it has,
   * once (nothing of ours still waiting, no queueing under way). */
  settled() {
    const status = this.app.queueStatus;
    if (this.queueing || status.remaining > 0) return; // (a prompt's own events may arrive before its POST returns)
    if ((this.mode === "instant" && this.running) || (this.mode === "change" && this.pendingChange)) this.queueAgain();
  }

  /** The open workflow was edited. */
  graphChanged() {
    if (this.mode !== "change" || this.queueing) return;
    const status = this.app.queueStatus;
    if (status.remaining > 0 || status.waiting.size > 0) { this.pendingChange = true; return; }
    clearTimeout(this.timer); // a burst of edits (typing, dragging) queues once
    this.timer = setTimeout(() => this.queueAgain(), 300);
  }

  async queueAgain() {
    this.pendingChange = false;
    if (this.queueing) return;
    this.queueing = true;
    try { await this.app.queue(); } finally { this.queueing = false; }
  }
}

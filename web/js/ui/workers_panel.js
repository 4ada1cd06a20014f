// The workers list in the queue panel: who runs prompts. One row per worker (the embedded worker,
// or each Ray worker with `--ray`): state, node, device, memory, loaded models, current prompt
// (with its queue number) and prompts done. Hidden when there is nothing to show.

const GiB = 1024 ** 3;

function cell(text, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function memory(worker) {
  const parts = [];
  if (worker.rss_bytes) parts.push(`RAM ${(worker.rss_bytes / GiB).toFixed(1)} GiB`);
  const device = worker.device || {};
  if (device.vram_total) parts.push(`VRAM ${((device.vram_total - device.vram_free) / GiB).toFixed(1)}/${(device.vram_total / GiB).toFixed(1)} GiB`);
  return parts.join(" · ");
}

export function renderWorkers(element, workers, queue) {
  if (!element) return;
  if (!Array.isArray(workers) || workers.length === 0) { element.hidden = true; return; }
  const numbers = new Map((queue?.queue_running || []).map((item) => [item[1], item[0]]));
  const rows = workers.map((worker) => {
    const tr = document.createElement("tr");
    tr.className = `worker ${worker.state}`;
    tr.dataset.worker = worker.name;
    const where = [worker.node, worker.node_ip].filter(Boolean).join(" ");
    const device = worker.device?.name || worker.device?.type || "";
    const running = worker.prompt_id
      ? `▶ #${numbers.get(worker.prompt_id) ?? worker.prompt_id.slice(0, 8)}${worker.running_seconds != null ? ` · ${worker.running_seconds}s` : ""}`
      : worker.state;
    const models = (worker.models || []).join(", ");
    tr.append(
      cell(worker.name, where),
      cell(running, worker.error || worker.prompt_id || ""),
      cell(device, memory(worker)),
      cell(models || "no models loaded", models),
      cell(`${worker.done} done${worker.lost ? ` · ${worker.lost} lost` : ""}`, `${worker.loads} model loads`),
    );
    return tr;
  });
  element.querySelector("tbody").replaceChildren(...rows);
  element.hidden = false;
}

// Toolbar buttons, side panel toggles and file drops on the canvas (clicks on node images: image_previews.js).
import { openExportMenu } from "./export_menu.js";
import { openLightbox } from "./lightbox.js";

const $ = (id) => document.getElementById(id);

export function showLightbox(url) { openLightbox([url], 0); }

export function bindToolbar(app) {
  const click = (id, fn) => $(id).addEventListener("click", fn);
  click("queue-button", () => app.queue());
  click("interrupt-button", () => app.api.interrupt());
  click("save-button", () => app.browser.save());
  click("export-button", (e) => openExportMenu(app, e.currentTarget));
  click("open-button", () => $("open-file").click());
  $("open-file").addEventListener("change", (e) => { if (e.target.files[0]) app.openFile(e.target.files[0]); e.target.value = ""; });
  click("fit-button", () => app.fitView());
  click("queue-toggle", () => { $("queue-panel").hidden = !$("queue-panel").hidden; app.queuePanel.refresh(); });
  click("workflows-toggle", () => app.browser.toggle());
  click("history-toggle", () => app.history.toggle());
  click("settings-toggle", () => app.settingsStore.toggle());
  click("wf-save", () => app.browser.save());
  click("wf-save-as", () => app.browser.saveAs());
  click("clear-queue", async () => { await app.api.clearQueue(); app.queuePanel.refresh(); });
}

export function bindDrop(app) {
  const canvas = app.view.canvas;
  canvas.addEventListener("dragover", (e) => e.preventDefault());
  canvas.addEventListener("drop", async (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (!file) return;
    const [x, y] = app.view.toGraph(e.clientX, e.clientY);
    const hit = app.interaction.hit(x, y);
    const upload = hit && app.view.layoutOf(hit.node).widgets.find((w) => w.upload);
    if (upload && file.type.startsWith("image/")) return app.widgets.upload(hit.node.id, upload.name, file);
    return app.openFile(file);
  });
}

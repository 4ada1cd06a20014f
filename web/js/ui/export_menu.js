// Export in the three formats people share: NodeFlow's own, ComfyUI's editor format (so ComfyUI
// opens it) and the API prompt (what /prompt takes). ComfyUI's format comes from the server's one
// converter (POST /nodeflow/convert); the prompt is the one Queue would send (extensions included).
import { showMenu } from "./menu.js";

export const EXPORT_FORMATS = [
  { id: "nodeflow", label: "NodeFlow workflow (.json)", suffix: "" },
  { id: "comfyui", label: "ComfyUI workflow (.json)", suffix: "_comfyui" },
  { id: "api", label: "API prompt (.json)", suffix: "_api" },
];

/** Save `data` as a JSON file named `name` through the browser's download. */
export function downloadJSON(name, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** The active workflow in `format` ("nodeflow" | "comfyui" | "api"). */
export async function workflowAs(app, format) {
  if (format === "api") return (await app.extensionHost.comfy.graphToPrompt()).output;
  const workflow = app.state.graph.toJSON();
  if (format === "nodeflow") return workflow;
  const converted = await app.api.post("/nodeflow/convert", { workflow, to: "comfyui" });
  return converted.result;
}

export async function exportAs(app, format) {
  const spec = EXPORT_FORMATS.find((f) => f.id === format);
  const base = app.tabs.active ? app.tabs.active.name.replace(/\.json$/i, "").replace(/[^\w.-]+/g, "_") : "workflow";
  try {
    downloadJSON(`${base}${spec.suffix}.json`, await workflowAs(app, format));
  } catch (err) {
    app.toast(`Export as ${spec.label} failed: ${err.message}`, "error");
  }
}

/** The Export button's menu, below `button`. */
export function openExportMenu(app, button) {
  app.closeOverlays();
  const rect = button.getBoundingClientRect();
  const menu = showMenu(app, rect.left, rect.bottom + 4, EXPORT_FORMATS.map((f) => ({ label: f.label, run: () => exportAs(app, f.id) })));
  menu.classList.add("export-menu");
  return menu;
}

/** Palette entries for the two extra formats (the NodeFlow one is the "export" action). */
export function registerExportActions(app) {
  app.actions.add({ id: "export-comfyui", name: "Export as a ComfyUI workflow", run: () => exportAs(app, "comfyui") });
  app.actions.add({ id: "export-api", name: "Export as an API prompt", run: () => exportAs(app, "api") });
}

// Paste an image from the clipboard onto a node with an image upload widget (Load Image): Ctrl+V
// with such a node selected (or under the pointer), the browser's own paste, or the node menu.
// It is uploaded like a dropped file and the widget takes its name (one undo step).
import { effectiveInfo } from "../model/editor_nodes.js";
import { uploadWidget } from "../render/node_images.js";

const PERMISSION_WAIT_MS = 1500; // a permission prompt left unanswered: paste nodes instead
const EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/bmp": "bmp" };

const uploadName = (app, node) => uploadWidget(effectiveInfo(app.state.graph, node, app.state.objectInfo));

/** The node an image paste goes to: the selected upload node, else the one under the pointer. */
export function pasteTarget(app) {
  const graph = app.state.graph;
  for (const id of app.state.selection) {
    const node = graph.nodes.get(id);
    if (node && uploadName(app, node)) return node;
  }
  const hit = app.interaction.lastPointer && app.interaction.hit(...app.interaction.pointerGraph());
  return hit && uploadName(app, hit.node) ? hit.node : null;
}

const asFile = (blob, type) => new File([blob], `pasted.${EXTENSIONS[type] || "png"}`, { type });

/** The first image on the system clipboard as a File, or null (no image, or no permission). */
export async function clipboardImage() {
  try {
    const waited = new Promise((_, reject) => setTimeout(() => reject(new Error("clipboard timeout")), PERMISSION_WAIT_MS));
    for (const item of await Promise.race([navigator.clipboard.read(), waited])) {
      const type = item.types.find((t) => t.startsWith("image/"));
      if (type) return asFile(await item.getType(type), type);
    }
  } catch { /* no permission or nothing readable */ }
  return null;
}

/** Upload the clipboard's image onto `node`; `tell`: say so when there is none. */
export async function pasteImageOnto(app, node, tell = false, file = null) {
  const image = file || (await clipboardImage());
  if (!image) {
    if (tell) app.toast("The clipboard holds no image (or the browser did not allow reading it)", "warning");
    return false;
  }
  await app.widgets.upload(node.id, uploadName(app, node), image);
  return true;
}

/** Ctrl+V: true when an image went onto a Load Image node (then nodes are not pasted). */
export async function pasteImageIfTargeted(app) {
  const node = pasteTarget(app);
  return node ? pasteImageOnto(app, node) : false;
}

/** The browser's paste event (its Edit menu, or where Ctrl+V is not taken by the editor). */
export function bindPasteEvent(app) {
  document.addEventListener("paste", (e) => {
    const target = e.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)) return;
    const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
    const node = item && pasteTarget(app);
    if (!node) return;
    e.preventDefault();
    pasteImageOnto(app, node, false, asFile(item.getAsFile(), item.type));
  });
}

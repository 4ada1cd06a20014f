// Clicks on a node's images (a batch's grid -> one image large with a pager -> the lightbox that
// steps through them) and the node menu's image entries: open, save, mask editor, paste.
import { effectiveInfo } from "../model/editor_nodes.js";
import { refFromUrl } from "../model/image_refs.js";
import { imageSetLayout } from "../render/image_grid.js";
import { inside } from "../render/layout.js";
import { currentImage, nodeImages, pagerIndex, setPagerIndex, uploadWidget } from "../render/node_images.js";
import { openLightbox } from "./lightbox.js";
import { openMaskEditor } from "./mask_editor.js";
import { pasteImageOnto } from "./image_paste.js";

const infoOf = (app, node) => effectiveInfo(app.state.graph, node, app.state.objectInfo);

/** A click at graph point (x, y) on `node`'s images; true when it was one. */
export function imageClick(app, node, x, y) {
  const L = app.view.layoutOf(node);
  const urls = nodeImages(app.state, node, infoOf(app, node));
  if (!urls) return false;
  const runtime = app.state.runtime;
  const index = pagerIndex(runtime, node.id, urls);
  if (L.thumb && inside(x, y, L.thumb)) { openLightbox(urls, Math.max(0, index)); return true; }
  if (!L.image || !inside(x, y, L.image)) return false;
  const set = imageSetLayout(L.image, urls.length, index);
  const page = (i) => { setPagerIndex(runtime, node.id, urls, i); app.view.requestDraw(); };
  if (set.bar && inside(x, y, set.bar)) {
    if (inside(x, y, set.prev)) page((index - 1 + urls.length) % urls.length);
    else if (inside(x, y, set.next)) page(index + 1);
    else if (inside(x, y, set.grid)) page(-1);
    return true;
  }
  const cell = set.cells.find((c) => inside(x, y, c));
  if (!cell) return false;
  if (urls.length > 1 && index < 0) page(cell.i); // grid -> that image large
  else openLightbox(urls, cell.i);
  return true;
}

/** A plain click (no drag, no Shift) on a node's images acts on them. */
export function bindImageClicks(app) {
  const canvas = app.view.canvas;
  let down = null;
  canvas.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
  canvas.addEventListener("click", (e) => {
    if (e.detail !== 1 || e.shiftKey || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    const [x, y] = app.view.toGraph(e.clientX, e.clientY);
    const hit = app.interaction.hit(x, y);
    if (hit && (hit.kind === "body" || hit.kind === "title")) imageClick(app, hit.node, x, y);
  });
}

/** Download the image at `url` under its own file name. */
export function saveImage(url) {
  const ref = refFromUrl(url);
  const a = document.createElement("a");
  a.href = url;
  a.download = ref ? ref.filename : "image.png";
  a.click();
}

/** The node menu's image entries (none for a node without images or an upload widget). */
export function imageMenuItems(app, node) {
  const info = infoOf(app, node);
  const url = currentImage(app.state, node, info);
  const items = [];
  if (url) {
    items.push({ label: "Open image", run: () => window.open(url, "_blank", "noopener") },
      { label: "Save image", run: () => saveImage(url) },
      { label: "Open in Mask Editor", run: () => openMaskEditor(app, node) });
  }
  if (uploadWidget(info)) items.push({ label: "Paste image", run: () => pasteImageOnto(app, node, true) });
  return items;
}

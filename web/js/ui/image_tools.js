// The image tools wired into the editor in one call: the export menu's palette entries, clicks on
// node images (batch grid, pager, lightbox), image paste onto Load Image, and the mask editor action.
import { effectiveInfo } from "../model/editor_nodes.js";
import { currentImage } from "../render/node_images.js";
import { registerExportActions } from "./export_menu.js";
import { bindPasteEvent } from "./image_paste.js";
import { bindImageClicks } from "./image_previews.js";
import { openMaskEditor } from "./mask_editor.js";

export function installImageTools(app) {
  registerExportActions(app);
  bindImageClicks(app);
  bindPasteEvent(app);
  const imageNode = () => {
    const [id] = [...app.state.selection];
    const node = id && app.state.graph.nodes.get(id);
    return node && currentImage(app.state, node, effectiveInfo(app.state.graph, node, app.state.objectInfo)) ? node : null;
  };
  app.actions.add({ id: "mask-editor", name: "Open the selected node's image in the mask editor", keys: ["Alt+M"],
    when: () => !!imageNode(), run: () => openMaskEditor(app, imageNode()) });
}

// ComfyUI's "scripts/app.js" for custom-node packs' web scripts (`import { app } from "../../scripts/app.js"`):
// NodeFlow's adapter (web/js/comfy/app.js), built by the editor before any pack script loads.
const { app: module } = window.comfyAPI;
export const app = module.app;
export const ComfyApp = module.ComfyApp;
export const ANIM_PREVIEW_WIDGET = module.ANIM_PREVIEW_WIDGET;

// ComfyUI's "scripts/ui.js": $el and ComfyDialog (web/js/comfy/ui.js).
const { ui: module } = window.comfyAPI;
export const $el = module.$el;
export const ComfyDialog = module.ComfyDialog;

// ComfyUI's "scripts/widgets.js": NodeFlow's ComfyWidgets (web/js/comfy/widgets.js).
const { widgets: module } = window.comfyAPI;
export const ComfyWidgets = module.ComfyWidgets;
export const addValueControlWidget = module.addValueControlWidget;
export const addValueControlWidgets = module.addValueControlWidgets;

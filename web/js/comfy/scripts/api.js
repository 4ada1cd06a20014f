// ComfyUI's "scripts/api.js": NodeFlow's adapter (web/js/comfy/api.js).
const { api: module } = window.comfyAPI;
export const api = module.api;
export const ComfyApi = module.ComfyApi;

// ComfyUI's "scripts/utils.js": the helpers packs use most (web/js/comfy/ui.js).
const { utils: module } = window.comfyAPI;
export const addStylesheet = module.addStylesheet;
export const getStorageValue = module.getStorageValue;
export const setStorageValue = module.setStorageValue;

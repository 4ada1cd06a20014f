// Editor settings (theme, link style, snap to grid, autosave, minimap), per user on the server in
// /userdata/nodeflow.settings.json, loaded at start; the settings panel edits them.

export const SETTINGS_FILE = "nodeflow.settings.json";
export const DEFAULT_SETTINGS = { theme: "dark", linkStyle: "spline", snap: false, gridSize: 20, autosave: false, minimap: false };

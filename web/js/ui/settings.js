// Editor settings (theme, link style, snap to grid, autosave, minimap), per user on the server in
// /userdata/nodeflow.settings.json, loaded at start; the settings panel edits them.

export const SETTINGS_FILE = "nodeflow.settings.json";
export const DEFAULT_SETTINGS = { theme: "dark", linkStyle: "spline", snap: false, gridSize: 20, autosave: false, minimap: false, nodeIds: false };

const CHOICES = { theme: ["dark", "light"], linkStyle: ["spline", "straight"] };
const FLAGS = ["snap", "autosave", "minimap", "nodeIds"];

/** Known keys with valid values from `data` over the defaults; anything else is ignored. */
export function cleanSettings(data) {
  const result = { ...DEFAULT_SETTINGS };
  if (!data || typeof data !== "object") return result;
  for (const [key, values] of Object.entries(CHOICES)) if (values.includes(data[key])) result[key] = data[key];
  for (const key of FLAGS) if (typeof data[key] === "boolean") result[key] = data[key];
  if (Number.isInteger(data.gridSize) && data.gridSize >= 5 && data.gridSize <= 200) result.gridSize = data.gridSize;
  return result;
}

const FIELDS = [
  { key: "theme", label: "Theme", options: [["dark", "Dark"], ["light", "Light"]] },
  { key: "linkStyle", label: "Links", options: [["spline", "Curved (spline)"], ["straight", "Straight"]] },
  { key: "snap", label: "Snap to grid", flag: true },
  { key: "gridSize", label: "Grid size", number: [5, 200] },
  { key: "minimap", label: "Minimap", flag: true },
  { key: "nodeIds", label: "Node id badges (#6)", flag: true },
  { key: "autosave", label: "Autosave workflows that have a file on the server", flag: true },
];

export class SettingsStore {
  constructor(app, element) {
    this.app = app;
    this.element = element;
    this.timer = null;
    this.saved = null; // resolves when the last save finished (tests, closing)
  }

  async load() {
    try {
      this.app.settings = cleanSettings(await this.app.api.getUserdataIfPresent(SETTINGS_FILE));
    } catch (err) {
      if (err.status !== 404) this.app.toast(`Could not read your settings: ${err.message}`, "warning");
      this.app.settings = { ...DEFAULT_SETTINGS };
    }
    return this.app.settings;
  }

  saveSoon(ms = 150) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.saved = this.save(); }, ms);
  }

  async save() {
    try {
      await this.app.api.saveUserdata(SETTINGS_FILE, cleanSettings(this.app.settings), true);
      return true;
    } catch (err) {
      this.app.toast(`Could not save your settings: ${err.message}`, "error");
      return false;
    }
  }

  toggle(show = this.element.hidden) {
    this.element.hidden = !show;
    if (show) this.render();
  }

  render() {
    const form = this.element.querySelector("form");
    const rows = FIELDS.map((field) => {
      const label = document.createElement("label");
      label.className = "setting";
      const text = document.createElement("span");
      text.textContent = field.label;
      let control;
      if (field.options) {
        control = document.createElement("select");
        for (const [value, name] of field.options) {
          const option = document.createElement("option");
          option.value = value;
          option.textContent = name;
          control.append(option);
        }
        control.value = this.app.settings[field.key];
        control.addEventListener("change", () => this.app.setSetting(field.key, control.value));
      } else if (field.flag) {
        control = document.createElement("input");
        control.type = "checkbox";
        control.checked = !!this.app.settings[field.key];
        control.addEventListener("change", () => this.app.setSetting(field.key, control.checked));
      } else {
        control = document.createElement("input");
        control.type = "number";
        [control.min, control.max] = field.number;
        control.value = String(this.app.settings[field.key]);
        control.addEventListener("change", () => {
          const value = Math.round(Number(control.value));
          if (value >= field.number[0] && value <= field.number[1]) this.app.setSetting(field.key, value);
        });
      }
      control.name = field.key;
      label.append(text, control);
      return label;
    });
    form.replaceChildren(...rows, ...this.app.extensionHost.comfy.settings.rows()); // then extension settings (ComfyUI's addSetting)
  }
}

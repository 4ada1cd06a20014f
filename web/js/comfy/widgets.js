// ComfyUI's ComfyWidgets (scripts/widgets.js): a widget constructor per input type, called as
// ComfyWidgets.TYPE(node, inputName, inputData, app) and returning {widget}. Packs use them to add
// widgets of the usual kinds, e.g. a read-only multiline STRING that shows a node's result.

function numberOptions(opts, precision) {
  const step = opts.step ?? (precision === 0 ? 1 : 0.01);
  return { min: opts.min, max: opts.max, step: 10 * step, step2: step, round: opts.round, precision };
}

function decimals(step) {
  const text = String(step);
  return text.includes(".") ? text.split(".")[1].length : 0;
}

/** A multiline text box (an element widget, `widget.inputEl` the textarea) as ComfyUI's STRING. */
function textArea(node, name, opts) {
  const area = document.createElement("textarea");
  area.className = "comfy-multiline-input";
  area.placeholder = opts.placeholder || name;
  area.spellcheck = false;
  area.value = opts.default ?? "";
  const widget = node.addDOMWidget(name, "customtext", area, { getValue: () => area.value, setValue: (v) => { area.value = v ?? ""; } });
  widget.inputEl = area;
  area.addEventListener("input", () => { widget.value = area.value; widget.callback?.(widget.value); });
  return widget;
}

export const ComfyWidgets = {
  INT(node, name, inputData) {
    const opts = inputData[1] || {};
    return { widget: node.addWidget("number", name, opts.default ?? 0, undefined, numberOptions(opts, 0)) };
  },
  FLOAT(node, name, inputData) {
    const opts = inputData[1] || {};
    return { widget: node.addWidget("number", name, opts.default ?? 0, undefined, numberOptions(opts, decimals(opts.round || opts.step || 0.01))) };
  },
  BOOLEAN(node, name, inputData) {
    const opts = inputData[1] || {};
    return { widget: node.addWidget("toggle", name, !!opts.default, undefined, { on: opts.label_on, off: opts.label_off }) };
  },
  STRING(node, name, inputData) {
    const opts = inputData[1] || {};
    if (opts.multiline) return { widget: textArea(node, name, opts) };
    return { widget: node.addWidget("text", name, opts.default ?? "", undefined, {}) };
  },
  COMBO(node, name, inputData) {
    const opts = inputData[1] || {};
    const values = Array.isArray(inputData[0]) ? inputData[0] : opts.options || [];
    return { widget: node.addWidget("combo", name, opts.default ?? values[0] ?? "", undefined, { values }) };
  },
};

/** ComfyUI's seed control combo; NodeFlow's seeds already have theirs (control_after_generate). */
export function addValueControlWidget() {
  throw new Error("addValueControlWidget is not supported by NodeFlow: give the input control_after_generate in its definition");
}
export const addValueControlWidgets = addValueControlWidget;

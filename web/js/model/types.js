// Socket types, widget detection and defaults, read from /object_info specs.

export const WIDGET_TYPES = new Set(["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"]);

export const TYPE_COLORS = {
  IMAGE: "#64b5f6", MASK: "#81c784", LATENT: "#ff80ab", CONDITIONING: "#ffa931", MODEL: "#b39ddb",
  CLIP: "#ffd500", VAE: "#ff6e6e", INT: "#29b6a5", FLOAT: "#4dd0e1", STRING: "#a1e06b", BOOLEAN: "#e0a060",
  UPSCALE_MODEL: "#c0a0ff", "*": "#aaaaaa",
};

export function typeColor(type) {
  if (!type) return TYPE_COLORS["*"];
  return TYPE_COLORS[type] || TYPE_COLORS[String(type).split(",")[0].trim()] || "#9e9e9e";
}

/** ComfyUI type matching: same name, "*" on either side, or overlapping comma lists. */
export function typesMatch(outputType, inputType) {
  if (outputType === inputType || outputType === "*" || inputType === "*") return true;
  if (typeof outputType !== "string" || typeof inputType !== "string") return false;
  const outs = outputType.split(",").map((t) => t.trim());
  const ins = new Set(inputType.split(",").map((t) => t.trim()));
  return outs.some((t) => ins.has(t) || t === "*") || ins.has("*");
}

/** [{name, spec:[type, options], section}] in input_order, required then optional. */
export function inputSpecs(info) {
  const result = [];
  const order = info.input_order || {};
  for (const section of ["required", "optional"]) {
    const specs = (info.input && info.input[section]) || {};
    for (const name of order[section] || Object.keys(specs)) {
      if (name in specs) {
        const spec = Array.isArray(specs[name]) ? specs[name] : [specs[name]];
        result.push({ name, spec, section });
      }
    }
  }
  return result;
}

export function options(spec) {
  return spec.length > 1 && spec[1] && typeof spec[1] === "object" ? spec[1] : {};
}

/** The widget kind of an input spec, or null for a socket. `custom`: types extensions draw. */
export function widgetKind(spec, custom = null) {
  const [type] = spec;
  if (options(spec).forceInput) return null;
  if (custom && typeof type === "string" && custom.has(type)) return "CUSTOM";
  if (Array.isArray(type) || type === "COMBO") return "COMBO";
  return WIDGET_TYPES.has(type) ? type : null;
}

export function comboOptions(spec) {
  return Array.isArray(spec[0]) ? spec[0] : options(spec).options || [];
}

export function defaultValue(spec) {
  const opts = options(spec);
  if ("default" in opts) return opts.default;
  const kind = widgetKind(spec);
  if (kind === "COMBO") return comboOptions(spec)[0] ?? "";
  return { INT: 0, FLOAT: 0, STRING: "", BOOLEAN: false }[kind];
}

/** Clamp and round a number to a widget's min/max/step/round. */
export function normaliseNumber(spec, value) {
  const opts = options(spec);
  let v = Number(value);
  if (!Number.isFinite(v)) v = Number(defaultValue(spec)) || 0;
  if (opts.min !== undefined) v = Math.max(opts.min, v);
  if (opts.max !== undefined) v = Math.min(opts.max, v);
  if (widgetKind(spec) === "INT") return Math.round(v);
  const round = opts.round === undefined ? opts.step : opts.round;
  if (round) v = Math.round(v / round) * round;
  return Number(v.toFixed(6));
}

/** The input socket a widget becomes when converted to an input. */
export function widgetInput(name, spec) {
  return { name, type: Array.isArray(spec[0]) ? "COMBO" : spec[0], widget: true, spec };
}

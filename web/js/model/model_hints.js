// Settings that suit a known checkpoint (data). The node defaults (512x512, cfg 8) are slow and poor on
// NodeFlow's bundled demo model, which was trained at 64x64 and works best near cfg 3: while a loader
// in the workflow names such a checkpoint, nodes added at their defaults take these values instead.

export const MODEL_HINTS = [
  {
    match: /^nodeflow-demo-sd1/,
    label: "the demo checkpoint",
    nodes: {
      EmptyLatentImage: { width: 64, height: 64 },
      KSampler: { cfg: 3 },
      KSamplerAdvanced: { cfg: 3 },
    },
  },
];

const MODEL_WIDGETS = ["ckpt_name"]; // the loader widgets that name a checkpoint

/** The hint for the first checkpoint named in `graph` that has one (null: none). */
export function activeHint(graph, hints = MODEL_HINTS) {
  for (const node of graph.nodes.values()) {
    for (const name of MODEL_WIDGETS) {
      const value = node.widgets && node.widgets[name];
      const hint = typeof value === "string" && hints.find((h) => h.match.test(value));
      if (hint) return hint;
    }
  }
  return null;
}

/**
 * What `hint` changes on `node` still at its defaults (`defaults`: the widget values a fresh node gets):
 * [[widget, value]]. A value the user already changed is kept.
 */
export function hintedValues(hint, node, defaults) {
  const wanted = (hint && hint.nodes[node.type]) || {};
  return Object.entries(wanted).filter(([name, value]) => name in node.widgets && node.widgets[name] === defaults[name] && value !== defaults[name]);
}

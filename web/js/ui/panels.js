// One side panel at a time on the right (queue, history, settings, plugin problems): showing one
// hides the others, so a panel never opens underneath another one.

export const RIGHT_PANELS = ["queue-panel", "history-panel", "settings-panel", "problems-panel"];

export function exclusivePanels(ids = RIGHT_PANELS) {
  const panels = ids.map((id) => document.getElementById(id)).filter(Boolean);
  const observer = new MutationObserver((changes) => {
    for (const { target } of changes) {
      if (target.hidden) continue;
      for (const other of panels) if (other !== target && !other.hidden) other.hidden = true;
    }
  });
  for (const panel of panels) observer.observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  return observer;
}

// Which links of the open workflow run under a node (not their own ends): the editor's bezier, sampled.
/* global window */ // evaluated in the page by tests/web/test_editor_review.py
() => {
  // every link's drawn curve (the editor's bezier), sampled: which samples fall inside a node other than its two ends
  const app = window.nodeflow.app, view = app.view, g = app.state.graph;
  const rects = [...g.nodes.values()].map((n) => { const L = view.layout(n); return [n.id, L]; });
  const hidden = [];
  for (const link of g.links.values()) {
    const a = view.slotPoint(link.from[0], "out", link.from[1]), b = view.slotPoint(link.to[0], "in", link.to[1]);
    const dx = Math.max(40, Math.abs(b[0] - a[0]) * 0.5);
    const p0 = a, p1 = [a[0] + dx, a[1]], p2 = [b[0] - dx, b[1]], p3 = b;
    for (let i = 1; i < 40; i++) {
      const t = i / 40, u = 1 - t;
      const x = u*u*u*p0[0] + 3*u*u*t*p1[0] + 3*u*t*t*p2[0] + t*t*t*p3[0];
      const y = u*u*u*p0[1] + 3*u*u*t*p1[1] + 3*u*t*t*p2[1] + t*t*t*p3[1];
      const under = rects.find(([id, L]) => x > L.x + 2 && x < L.x + L.w - 2 && y > L.y + 2 && y < L.y + L.h - 2 &&
        !((id === link.from[0] || id === link.to[0]) && (t < 0.1 || t > 0.9)));
      if (under) { hidden.push([link.from[0] + '>' + link.to[0] + '.' + link.to[1], under[0]]); break; }
    }
  }
  return hidden;
}

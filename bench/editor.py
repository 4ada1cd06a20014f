"""Editor benchmark (Playwright + Debian chromium, prints JSON): frames per second while panning
and zooming generated graphs of 500 (and 2,000) nodes, and the time to load them, against an
empty canvas measured in the same run; the 2,000-node graph once more with a group around every
row of nodes, a reroute on every 10th link and the minimap shown."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from tests.helpers.chromium import launch
from tests.helpers.server_process import free_port, start

MEASURE = """async ([count, seconds, extras]) => {
  const app = window.nodeflow.app;
  const types = ["EmptyImage", "ImageInvert", "ImageScaleBy", "ImageBlend"];
  const nodes = [], links = [];
  for (let i = 0; i < count; i++) {
    const type = i === 0 ? "EmptyImage" : types[1 + (i % 2)];
    nodes.push({id: String(i + 1), type, pos: [(i % 25) * 300, Math.floor(i / 25) * 220], size: [240, 100],
                mode: "active", widgets: {}, controls: {}});
    if (i > 0) links.push({id: i, from: [String(i), 0], to: [String(i + 1), "image"], type: "IMAGE",
                          ...(extras && i % 10 === 0 ? {via: [[(i % 25) * 300 - 40, Math.floor(i / 25) * 220 + 60]]} : {})});
  }
  const groups = [];
  if (extras) for (let row = 0; row * 25 < count; row++) groups.push({title: `row ${row}`, bounding: [-20, row * 220 - 50, 7540, 200], color: "#3f789e"});
  app.settings.minimap = !!extras;
  app.viewControls.apply();
  const t0 = performance.now();
  app.setGraph({format: "nodeflow-workflow", version: 1, nodes, links, groups}, "bench");
  app.fitView();
  app.view.draw();
  const loadMs = performance.now() - t0;
  const view = app.state.graph.viewport;
  const frames0 = app.view.frames;
  const start = performance.now();
  await new Promise((resolve) => {
    const tick = (now) => {
      const t = (now - start) / 1000;
      view.scale = 0.35 + 0.25 * Math.sin(t * 2);
      view.offset = [Math.sin(t) * 400 - 200, Math.cos(t) * 300 - 100];
      app.view.draw();
      if (t < seconds) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  const elapsed = (performance.now() - start) / 1000;
  return {nodes: count, extras: !!extras, load_ms: Math.round(loadMs), fps: Math.round((app.view.frames - frames0) / elapsed * 10) / 10};
}"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(Path(tmp), port)
        try:
            with sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page(viewport={"width": 1400, "height": 850})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("body[data-ready='true']")
                results = [page.evaluate(MEASURE, [count, 3, False]) for count in (1, 500, 2000)]
                results.append(page.evaluate(MEASURE, [2000, 3, True]))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    baseline = results[0]["fps"] or 1
    for r in results:
        r["fps_vs_empty"] = round(r["fps"] / baseline, 2)
    print(json.dumps({"editor": results, "target_fps": 30}, indent=2))


if __name__ == "__main__":
    main()

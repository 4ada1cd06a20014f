// View toggles (minimap, snap to grid) and dragging on the minimap to move the view.
import { Minimap } from "../render/minimap.js";

const $ = (id) => document.getElementById(id);

export class ViewControls {
  constructor(app) {
    this.app = app;
    this.minimap = new Minimap($("minimap"), app.view);
    app.view.afterDraw = () => this.minimap.draw();
    $("toggle-minimap").addEventListener("click", () => this.setMinimap(!app.settings.minimap));
    $("toggle-snap").addEventListener("click", () => this.setSnap(!app.settings.snap));
    const canvas = this.minimap.canvas;
    let dragging = false;
    const centre = (e) => {
      const [gx, gy] = this.minimap.toGraph(e.clientX, e.clientY);
      const viewport = app.state.graph.viewport;
      const { clientWidth, clientHeight } = app.view.canvas;
      viewport.offset = [clientWidth / viewport.scale / 2 - gx, clientHeight / viewport.scale / 2 - gy];
      app.viewChanged();
    };
    canvas.addEventListener("pointerdown", (e) => { dragging = this.minimap.hold = true; canvas.setPointerCapture?.(e.pointerId); centre(e); });
    canvas.addEventListener("pointermove", (e) => { if (dragging) centre(e); });
    canvas.addEventListener("pointerup", () => { dragging = this.minimap.hold = false; app.view.requestDraw(); });
    this.apply();
  }

  setMinimap(on) { this.app.setSetting("minimap", !!on); }
  setSnap(on) { this.app.setSetting("snap", !!on); }

  /** Reflect the settings in the buttons and the minimap. */
  apply() {
    const { minimap, snap } = this.app.settings;
    this.minimap.canvas.hidden = !minimap;
    $("toggle-minimap").setAttribute("aria-pressed", String(!!minimap));
    $("toggle-snap").setAttribute("aria-pressed", String(!!snap));
    this.app.view.requestDraw();
  }
}

/** Round to the grid when snapping. */
export function snapValue(value, settings) {
  return settings.snap ? Math.round(value / settings.gridSize) * settings.gridSize : value;
}

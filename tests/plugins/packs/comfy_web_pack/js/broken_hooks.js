// An extension whose hooks throw: each failure is reported (once, then counted), nothing else breaks.
import { app } from "../../scripts/app.js";

app.registerExtension({
  name: "comfy_web_pack.broken_hooks",
  setup() { throw new Error("setup exploded"); },
  nodeCreated() { throw new Error("nodeCreated exploded"); },
});

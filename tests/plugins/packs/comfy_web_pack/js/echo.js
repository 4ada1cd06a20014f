// The web side of comfy_web_pack, in the style of real ComfyUI packs.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { ComfyWidgets } from "../../scripts/widgets.js";
import { $el } from "../../scripts/ui.js";

const seen = (window.comfyWebPack = { events: [], executed: [], created: [], loaded: [], connections: [] });

app.registerExtension({
  name: "comfy_web_pack.echo",
  settings: [{ id: "comfy_web_pack.prefix", name: "Echo title prefix", type: "text", defaultValue: "Echo" }],

  async beforeRegisterNodeDef(nodeType, nodeData, app) {
    if (nodeData.name !== "WebEcho") return;
    seen.nodeData = { name: nodeData.name, category: nodeData.category, comfyClass: nodeType.comfyClass };
    const onNodeCreated = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const result = onNodeCreated?.apply(this, arguments);
      this.addWidget("button", "Shout", null, () => {
        const text = this.widgets.find((w) => w.name === "text");
        text.value = String(text.value).toUpperCase();
      });
      this.addWidget("number", "repeat", 2, (v) => { seen.repeat = v; }, { min: 1, max: 9, step: 10, precision: 0 });
      const shown = ComfyWidgets.STRING(this, "echo_out", ["STRING", { multiline: true }], app).widget;
      shown.inputEl.readOnly = true;
      shown.serialize = false;
      shown.options.serialize = false;
      return result;
    };
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      onExecuted?.apply(this, arguments);
      this.widgets.find((w) => w.name === "echo_out").value = message.echo.join("\n");
    };
    nodeType.prototype.onConnectionsChange = function (side, slot, connected) { seen.connections.push([side, slot, connected]); };
    nodeType.prototype.getExtraMenuOptions = function (canvas, options) {
      options.push(null, { content: "Echo: reset text", callback: () => { this.widgets[0].value = "hello"; } });
    };
  },

  nodeCreated(node) { if (node.comfyClass === "WebEcho") seen.created.push(node.id); },
  loadedGraphNode(node) { if (node.comfyClass === "WebEcho") seen.loaded.push(node.id); },

  async setup() {
    api.addEventListener("comfy_web_pack.shout", ({ detail }) => {
      seen.events.push(detail);
      const node = app.graph.getNodeById(detail.node);
      if (node) node.title = `${app.ui.settings.getSettingValue("comfy_web_pack.prefix")}: ${detail.text}`;
    });
    api.addEventListener("executed", ({ detail }) => seen.executed.push(detail));
    api.addEventListener("executing", ({ detail }) => { if (detail) seen.executing = detail; });
    const response = await api.fetchApi("/object_info/WebEcho");
    seen.fetched = (await response.json()).WebEcho.display_name;
    seen.apiURL = api.apiURL("/view?filename=x.png");
    document.body.append($el("div#comfy-web-pack-ready", { hidden: true, textContent: "ready" }));
    app.extensionManager.toast.add({ severity: "info", summary: "comfy_web_pack", detail: "ready", life: 2000 });
  },
});

// Pure helpers behind the editor's information features: tooltips from /object_info and the list of
// model files an opened workflow needs that the server does not have.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Graph } from "../../web/js/model/graph.js";
import { missingModels } from "../../web/js/model/missing_models.js";
import { tooltipFor } from "../../web/js/ui/hover.js";

const INFO = {
  CheckpointLoaderSimple: { input: { required: { ckpt_name: [["demo.safetensors"], { tooltip: "The checkpoint (model) to load." }] } },
    input_order: { required: ["ckpt_name"] }, output: ["MODEL", "CLIP", "VAE"], output_name: ["MODEL", "CLIP", "VAE"],
    output_tooltips: ["The model used for denoising latents.", null, null], display_name: "Load Checkpoint", category: "loaders",
    description: "Loads a diffusion model checkpoint." },
  CLIPTextEncode: { input: { required: { text: ["STRING", { multiline: true, tooltip: "The text to be encoded." }], clip: ["CLIP", { tooltip: "The CLIP model used for encoding the text." }] } },
    input_order: { required: ["text", "clip"] }, output: ["CONDITIONING"], output_name: ["CONDITIONING"], display_name: "CLIP Text Encode (Prompt)", category: "conditioning" },
  PackLoader: { input: { required: { lora_name: [["a.safetensors"]], strength: ["FLOAT", {}] } }, input_order: { required: ["lora_name", "strength"] },
    output: ["MODEL"], output_name: ["MODEL"], category: "pack" },
};

function graph() {
  const g = new Graph();
  for (const [id, type, widgets] of [["1", "CheckpointLoaderSimple", { ckpt_name: "sdxl_base.safetensors" }], ["2", "CLIPTextEncode", { text: "a cat" }],
    ["3", "PackLoader", { lora_name: "style.safetensors", strength: 1 }], ["4", "CheckpointLoaderSimple", { ckpt_name: "demo.safetensors" }]]) {
    const node = g.makeNode(type, INFO[type], [0, 0]);
    node.id = id;
    Object.assign(node.widgets, widgets);
    g.nodes.set(id, node);
  }
  return g;
}

test("tooltips come from input tooltip options, output_tooltips and the node description", () => {
  const g = graph();
  const clip = g.nodes.get("2");
  assert.equal(tooltipFor({ kind: "input", node: clip, input: "clip", type: "CLIP" }, g, INFO), "clip (CLIP)\nThe CLIP model used for encoding the text.");
  const loader = g.nodes.get("1");
  assert.equal(tooltipFor({ kind: "output", node: loader, slot: 0, type: "MODEL" }, g, INFO), "MODEL (MODEL)\nThe model used for denoising latents.");
  assert.equal(tooltipFor({ kind: "output", node: loader, slot: 1, type: "CLIP" }, g, INFO), "CLIP (CLIP)");
  const row = { name: "ckpt_name", spec: INFO.CheckpointLoaderSimple.input.required.ckpt_name };
  assert.equal(tooltipFor({ kind: "widget", node: loader, row }, g, INFO), "ckpt_name\nThe checkpoint (model) to load.");
  assert.equal(tooltipFor({ kind: "title", node: loader }, g, INFO), "#1 Load Checkpoint (CheckpointLoaderSimple)\nLoads a diffusion model checkpoint.");
  const link = { id: 1, from: ["1", 1], to: ["2", "clip"], type: "CLIP" };
  assert.equal(tooltipFor({ kind: "link", link }, g, INFO), "CLIP\n#1 Load Checkpoint → #2 CLIP Text Encode (Prompt) · clip");
  assert.equal(tooltipFor(null, g, INFO), "");
});

test("missing models: every listed-file widget whose value the server lacks, with its folder", () => {
  const g = graph();
  const found = missingModels(g, INFO, { CheckpointLoaderSimple: { ckpt_name: "checkpoints" } });
  assert.deepEqual(found, [
    { node: "1", title: "Load Checkpoint", type: "CheckpointLoaderSimple", input: "ckpt_name", name: "sdxl_base.safetensors", folder: "checkpoints" },
    { node: "3", title: "PackLoader", type: "PackLoader", input: "lora_name", name: "style.safetensors", folder: "loras" }, // by ComfyUI's input name
  ]);
  g.nodes.get("1").mode = "muted";
  assert.equal(missingModels(g, INFO, {}).length, 1);
});

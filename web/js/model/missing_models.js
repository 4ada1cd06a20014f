// Which model files a workflow needs that this server does not have: every file-picking widget
// whose value is not among the files /object_info lists, with the model folder it is read from
// (GET /nodeflow/model_inputs; for plugin nodes that only list names, the usual folder of ComfyUI's
// input names).
import { EDITOR_NODES } from "./editor_nodes.js";
import { comboOptions, inputSpecs, widgetKind } from "./types.js";

/** ComfyUI's usual input names for model files -> model folder kind. */
export const FOLDER_OF_INPUT = {
  ckpt_name: "checkpoints", lora_name: "loras", vae_name: "vae", control_net_name: "controlnet", unet_name: "diffusion_models",
  clip_name: "text_encoders", clip_name1: "text_encoders", clip_name2: "text_encoders", clip_name3: "text_encoders",
  style_model_name: "style_models", gligen_name: "gligen", hypernetwork_name: "hypernetworks", upscale_model: "upscale_models",
  config_name: "configs", embedding_name: "embeddings",
};

/**
 * [{node, title, type, input, name, folder}] for each model file `graph` names that is not listed;
 * `modelInputs` is {node class: {input: folder}} from the server. Muted nodes are skipped.
 */
export function missingModels(graph, objectInfo, modelInputs = {}) {
  const missing = [];
  for (const node of graph.nodes.values()) {
    const info = objectInfo[node.type];
    if (!info || node.mode === "muted" || node.type in EDITOR_NODES) continue;
    for (const { name, spec } of inputSpecs(info)) {
      const folder = (modelInputs[node.type] || {})[name] || FOLDER_OF_INPUT[name];
      if (!folder || widgetKind(spec) !== "COMBO" || !(name in node.widgets)) continue;
      const value = node.widgets[name];
      if (value === null || value === undefined || value === "" || comboOptions(spec).includes(value)) continue;
      missing.push({ node: node.id, title: node.title || info.display_name || node.type, type: node.type, input: name, name: String(value), folder });
    }
  }
  return missing;
}

// The editor's prompt builder as a command: reads {"object_info": {...}, "workflows": {name: NodeFlow
// workflow}} from the JSON file given as the argument, loads each workflow into the editor's Graph
// (as the editor does) and prints {name: buildPrompt(graph)} as JSON. Driven by
// tests/workflow/test_prompt_builders_agree.py, which compares it with workflow/to_api.py.
import { readFileSync } from "node:fs";

import { Graph } from "../../web/js/model/graph.js";
import { buildPrompt } from "../../web/js/model/prompt.js";

const { object_info: info, workflows } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const prompts = {};
for (const [name, workflow] of Object.entries(workflows)) {
  const { graph } = Graph.fromJSON(workflow, info);
  prompts[name] = buildPrompt(graph, info);
}
process.stdout.write(JSON.stringify(prompts));

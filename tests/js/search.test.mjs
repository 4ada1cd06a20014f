// Node search ranking against ComfyUI's real core /object_info (tests/data): exact display names and
// prefixes first, deprecated / experimental / _for_testing nodes last, link-drop suggestions.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { demoted, fuzzyScore, linkPreference, searchNodes, squash } from "../../web/js/model/search.js";
import { inputSpecs, typesMatch, widgetKind } from "../../web/js/model/types.js";

const INFO = JSON.parse(readFileSync(new URL("../data/core_nodes_object_info.json", import.meta.url)));
const top = (query, filter, prefer) => searchNodes(INFO, query, filter, 40, prefer).map((r) => r.name);

test("an exact display name wins over a longer, deprecated name that starts the same", () => {
  assert.equal(top("Load Checkpoint")[0], "CheckpointLoaderSimple");
  assert.ok(top("Load Checkpoint").indexOf("CheckpointLoader") > 0);
  assert.equal(top("Load LoRA")[0], "LoraLoader");
  assert.equal(fuzzyScore("Load LoRA", "Load LoRA"), 1000);
  assert.equal(top("Load Image")[0], "LoadImage");
  assert.equal(top("vae decode")[0], "VAEDecode");
  assert.equal(top("KSampler")[0], "KSampler");
});

test("prefix matches come before substring and fuzzy matches; words match word starts", () => {
  const names = top("Empty Lat");
  assert.equal(names[0], "EmptyLatentImage");
  assert.ok(fuzzyScore("upscale lat", "Upscale Latent") > fuzzyScore("upscale lat", "ImageUpscaleWithModel"));
  assert.ok(fuzzyScore("lat ups", "Upscale Latent") >= 700 - 20, "every word starts a word of the name");
  assert.ok(fuzzyScore("ksmp", "KSampler") > 0);
  assert.equal(fuzzyScore("xyz", "KSampler"), -1);
  assert.equal(squash("VAE Decode (Tiled)"), "vaedecodetiled");
});

test("deprecated, experimental and _for_testing nodes always rank after the others", () => {
  assert.ok(demoted("CheckpointLoader", INFO.CheckpointLoader));
  assert.ok(demoted("SaveLatent", INFO.SaveLatent));
  assert.ok(!demoted("KSampler", INFO.KSampler));
  for (const query of ["save", "decode", "load", "latent", ""]) {
    const ranked = searchNodes(INFO, query, () => true, 500);
    const firstDemoted = ranked.findIndex((r) => r.demoted);
    if (firstDemoted >= 0) assert.ok(ranked.slice(firstDemoted).every((r) => r.demoted), `query ${query}`);
  }
});

test("link-drop search: the usual next node first, _for_testing ones last", () => {
  const takesLatent = (info) => inputSpecs(info).some(({ spec }) => !widgetKind(spec) && typesMatch("LATENT", spec[0]));
  const prefer = linkPreference({ output: { type: "LATENT" } });
  const names = top("", takesLatent, prefer);
  assert.deepEqual(names.slice(0, 2), ["KSampler", "VAEDecode"]);
  assert.ok(names.indexOf("SaveLatent") > names.indexOf("VAEDecode"));
  assert.ok(names.indexOf("VAEDecodeTiled") > names.indexOf("LatentUpscale"));
  assert.equal(top("decode", takesLatent, prefer)[0], "VAEDecode");
  const givesModel = (info) => (info.output || []).some((t) => typesMatch(t, "MODEL"));
  assert.equal(top("", givesModel, linkPreference({ input: { type: "MODEL" } }))[0], "CheckpointLoaderSimple");
});

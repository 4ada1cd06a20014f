// Node search over the library: type name, display name and category. Names and queries are compared
// without case, spaces or punctuation, so "Load Checkpoint" is an exact match for the display name
// "Load Checkpoint" (and for CheckpointLoaderSimple's "Load Checkpoint", not the deprecated loader).
// Deprecated, experimental and `_for_testing` nodes always come after the others.

/** Lower case without spaces, underscores, dashes, dots or brackets: how names are compared. */
export function squash(text) {
  return String(text ?? "").toLowerCase().replace(/[\s_\-.()[\]]+/g, "");
}

/** Score of `query` in `text`: higher is better; -1 when the letters are not all there in order. */
export function fuzzyScore(query, text) {
  const q = squash(query);
  const t = squash(text);
  if (!q) return 0;
  if (t === q) return 1000;
  if (t.startsWith(q)) return 800 - t.length;
  const words = String(query).toLowerCase().split(/[\s_]+/).filter(Boolean);
  const textWords = String(text ?? "").split(/[\s_/()-]+|(?<=[a-z])(?=[A-Z])/).filter(Boolean).map((w) => w.toLowerCase());
  if (words.length > 1 && words.every((w) => textWords.some((tw) => tw.startsWith(w)))) return 700 - t.length;
  const at = t.indexOf(q);
  if (at >= 0) return 600 - at - t.length / 10;
  let score = 0;
  let pos = -1;
  let run = 0;
  for (const ch of q) {
    const next = t.indexOf(ch, pos + 1);
    if (next < 0) return -1;
    run = next === pos + 1 ? run + 1 : 0;
    score += 10 + run * 5 - Math.min(next - pos, 10);
    pos = next;
  }
  return Math.min(score, 500);
}

/** Nodes a user rarely means: deprecated, experimental, or in a `_for_testing` category. */
export function demoted(name, info) {
  const category = String(info.category || "");
  return !!(info.deprecated || info.experimental || /(^|\/)_for_testing/.test(category)
    || /\bdeprecated\b/i.test(info.display_name || "") || /deprecated/i.test(category));
}

/** The usual next (or previous) node for a link of a type, most likely first (link-drop search). */
export const LINK_SUGGESTIONS = {
  from: { // a link dragged out of an output of this type
    LATENT: ["KSampler", "VAEDecode", "KSamplerAdvanced", "LatentUpscale", "LatentUpscaleBy", "SetLatentNoiseMask"],
    IMAGE: ["SaveImage", "PreviewImage", "VAEEncode", "ImageUpscaleWithModel", "ImageScale", "ImageScaleBy"],
    MODEL: ["KSampler", "LoraLoader", "KSamplerAdvanced", "LoraLoaderModelOnly"],
    CLIP: ["CLIPTextEncode", "LoraLoader", "CLIPSetLastLayer"],
    VAE: ["VAEDecode", "VAEEncode", "VAEEncodeForInpaint"],
    CONDITIONING: ["KSampler", "KSamplerAdvanced", "ConditioningCombine", "ConditioningSetArea"],
    MASK: ["SetLatentNoiseMask", "VAEEncodeForInpaint", "MaskToImage", "InvertMask"],
    UPSCALE_MODEL: ["ImageUpscaleWithModel"],
  },
  to: { // a link dragged out of an input of this type
    MODEL: ["CheckpointLoaderSimple", "LoraLoader", "UNETLoader"],
    CLIP: ["CheckpointLoaderSimple", "CLIPLoader", "LoraLoader"],
    VAE: ["CheckpointLoaderSimple", "VAELoader"],
    CONDITIONING: ["CLIPTextEncode", "ConditioningCombine"],
    LATENT: ["EmptyLatentImage", "KSampler", "VAEEncode"],
    IMAGE: ["LoadImage", "VAEDecode", "ImageUpscaleWithModel"],
    MASK: ["LoadImage", "LoadImageMask", "ImageToMask"],
    UPSCALE_MODEL: ["UpscaleModelLoader"],
  },
};

/**
 * Node types ranked for `query`: exact, then prefix, word-prefix, substring and fuzzy matches of the
 * display or type name (the category counts half); demoted nodes last; ties go to `prefer` (names, most
 * likely first), then to the shorter name. `filter(info)` narrows the candidates.
 */
export function searchNodes(objectInfo, query, filter = () => true, limit = 30, prefer = []) {
  const preferred = new Map(prefer.map((name, i) => [name, prefer.length - i]));
  const results = [];
  for (const [name, info] of Object.entries(objectInfo)) {
    if (!filter(info)) continue;
    const label = info.display_name || name;
    const score = squash(query) ? Math.max(fuzzyScore(query, name), fuzzyScore(query, label), fuzzyScore(query, info.category) * 0.5) : 0;
    if (score >= 0) results.push({ name, info, score, label, demoted: demoted(name, info), preferred: preferred.get(name) || 0 });
  }
  results.sort((a, b) => a.demoted - b.demoted || b.score - a.score || b.preferred - a.preferred
    || a.label.length - b.label.length || a.label.localeCompare(b.label));
  return results.slice(0, limit);
}

/** The link-drop suggestions for a pending link ({output} or {input} with its type). */
export function linkPreference(pending) {
  if (pending.output) return LINK_SUGGESTIONS.from[pending.output.type] || [];
  if (pending.input) return LINK_SUGGESTIONS.to[pending.input.type] || [];
  return [];
}

// Fuzzy search over the node library: name, display name and category.

/** Score of `query` in `text`: higher is better; -1 when the letters are not all there in order. */
export function fuzzyScore(query, text) {
  const q = query.toLowerCase().replace(/\s+/g, "");
  const t = String(text || "").toLowerCase();
  if (!q) return 0;
  if (t === q) return 1000;
  if (t.startsWith(q)) return 800 - t.length;
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
  return score;
}

/** Node types ranked for `query`; `filter(info)` narrows the candidates. */
export function searchNodes(objectInfo, query, filter = () => true, limit = 30) {
  const results = [];
  for (const [name, info] of Object.entries(objectInfo)) {
    if (!filter(info)) continue;
    const score = Math.max(fuzzyScore(query, name), fuzzyScore(query, info.display_name || name),
      fuzzyScore(query, info.category) * 0.5);
    if (score >= 0) results.push({ name, info, score });
  }
  results.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return results.slice(0, limit);
}

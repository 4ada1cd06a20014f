// Markdown notes (render/markdown.js): the subset parsed, long words broken, links placed inside the box.
import assert from "node:assert/strict";
import test from "node:test";
import { drawMarkdown, parseInline, parseMarkdown } from "../../web/js/render/markdown.js";
import { breakWord, wrapText } from "../../web/js/render/paint.js";

/** A canvas context that measures 7 units a character and records what is drawn. */
function fakeContext() {
  const drawn = [];
  return {
    drawn, font: "", fillStyle: "", textBaseline: "",
    measureText: (text) => ({ width: text.length * 7 }),
    fillText: (text, x, y) => drawn.push({ text, x, y }),
    fillRect: () => {},
  };
}

test("markdown blocks and inline spans", () => {
  const blocks = parseMarkdown("### Learn more\n\n> [Inpainting](https://example.com/inpaint) — Overview\n- **one** `two`\n```\n# not a heading\n```\n---");
  assert.deepEqual(blocks.map((b) => b.kind), ["h3", "blank", "quote", "item", "code", "rule"]);
  assert.deepEqual(blocks[0].spans, [{ text: "Learn more" }]);
  assert.deepEqual(blocks[2].spans[0], { text: "Inpainting", href: "https://example.com/inpaint" });
  assert.deepEqual(blocks[3].spans, [{ text: "one", bold: true }, { text: " " }, { text: "two", code: true }]);
  assert.deepEqual(blocks[4].spans, [{ text: "# not a heading", code: true }]);
  // only http(s) targets are links; bare URLs are links too
  assert.equal(parseInline("[x](javascript:alert(1))")[0].href, undefined);
  assert.equal(parseInline("[x](javascript:alert)")[0].href, undefined);
  assert.deepEqual(parseInline("see https://a.b/c."), [{ text: "see " }, { text: "https://a.b/c.", href: "https://a.b/c." }]);
});

test("a word wider than the box breaks instead of spilling out", () => {
  const ctx = fakeContext();
  assert.deepEqual(breakWord(ctx, "abcdefghij", 28), ["abcd", "efgh", "ij"]);
  const lines = wrapText(ctx, "go https://comfyanonymous.github.io/ComfyUI_examples/inpaint/ now", 0, 0, 140, 10, 20);
  assert.ok(lines >= 3);
  for (const { text, x } of ctx.drawn) assert.ok(x + text.length * 7 <= 140, text);
});

test("drawn markdown stays in its box and reports its links there", () => {
  const ctx = fakeContext();
  const box = { x: 10, y: 20, w: 200, h: 300 };
  const source = "### Learn more about this workflow\n\n> [Inpainting - ComfyUI_examples](https://comfyanonymous.github.io/ComfyUI_examples/inpaint/) — Overview\n> https://docs.comfy.org/tutorials/basic/inpaint/a/very/long/path/without/any/space";
  const links = drawMarkdown(ctx, parseMarkdown(source), box, { text: "#fff", link: "#9cf", muted: "#888" });
  assert.ok(!ctx.drawn.some((d) => d.text.includes("###") || d.text.includes("](")), "no raw markup drawn");
  for (const { text, x, y } of ctx.drawn) assert.ok(x >= box.x && x + text.length * 7 <= box.x + box.w && y < box.y + box.h, text);
  assert.ok(links.length >= 2);
  assert.ok(links.every((l) => l.href.startsWith("https://") && l.x + l.w <= box.x + box.w));
  // a box too short for everything: nothing is drawn below it
  const short = fakeContext();
  drawMarkdown(short, parseMarkdown(source), { x: 0, y: 0, w: 200, h: 40 }, { text: "#fff", link: "#9cf", muted: "#888" });
  assert.ok(short.drawn.every((d) => d.y + 17 <= 40));
});

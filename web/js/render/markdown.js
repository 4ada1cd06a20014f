// Markdown notes drawn on the canvas: a small subset (headings, quotes, lists, code blocks, rules,
// **bold**, `code`, [links](url) and bare URLs) parsed to blocks of spans, then wrapped into the note's
// box. Words longer than the box break, so nothing spills over a neighbour. Links are returned
// with their boxes; a click on one opens it (ui/widgets.js).

import { breakWord } from "./paint.js";

const INLINE = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\)|https?:\/\/[^\s)>\]]+)/g;
const SAFE_LINK = /^https?:\/\//i;

/** Inline markup -> [{text, bold?, code?, href?}]. Only http(s) links are links. */
export function parseInline(text) {
  const spans = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) spans.push({ text: text.slice(last, match.index) });
    const token = match[0];
    if (token.startsWith("**")) spans.push({ text: token.slice(2, -2), bold: true });
    else if (token.startsWith("`")) spans.push({ text: token.slice(1, -1), code: true });
    else if (token.startsWith("[")) {
      const [, label, href] = token.match(/^\[([^\]]+)\]\(([^)\s]+)\)$/);
      spans.push(SAFE_LINK.test(href) ? { text: label, href } : { text: label });
    } else spans.push({ text: token, href: token });
    last = match.index + token.length;
  }
  if (last < text.length) spans.push({ text: text.slice(last) });
  return spans;
}

/** Markdown source -> [{kind: "h1"|"h2"|"h3"|"p"|"quote"|"item"|"code"|"rule"|"blank", spans}]. */
export function parseMarkdown(source) {
  const blocks = [];
  let fence = false;
  for (const raw of String(source).split("\n")) {
    const line = raw.replace(/\s+$/, "");
    if (/^\s*```/.test(line)) { fence = !fence; continue; }
    if (fence) { blocks.push({ kind: "code", spans: [{ text: line, code: true }] }); continue; }
    let m;
    if (!line.trim()) blocks.push({ kind: "blank", spans: [] });
    else if ((m = line.match(/^(#{1,6})\s+(.*)$/))) blocks.push({ kind: `h${Math.min(3, m[1].length)}`, spans: parseInline(m[2]) });
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) blocks.push({ kind: "rule", spans: [] });
    else if ((m = line.match(/^\s*>\s?(.*)$/))) blocks.push({ kind: "quote", spans: parseInline(m[1]) });
    else if ((m = line.match(/^\s*(?:[-*+]|\d+[.)])\s+(.*)$/))) blocks.push({ kind: "item", spans: parseInline(m[1]) });
    else blocks.push({ kind: "p", spans: parseInline(line) });
  }
  return blocks;
}

const FONTS = {
  h1: "bold 18px system-ui, sans-serif", h2: "bold 16px system-ui, sans-serif", h3: "bold 14px system-ui, sans-serif",
  p: "13px system-ui, sans-serif", quote: "italic 13px system-ui, sans-serif", item: "13px system-ui, sans-serif",
  code: "12px ui-monospace, monospace",
};
const LINE = { h1: 24, h2: 21, h3: 19, p: 17, quote: 17, item: 17, code: 16, blank: 9, rule: 12 };

function fontFor(kind, span) {
  if (span.code) return FONTS.code;
  if (span.bold && !kind.startsWith("h")) return FONTS[kind].replace(/^(italic )?/, "$1bold ");
  return FONTS[kind];
}

/**
 * Draw `blocks` inside `box` ({x, y, w, h}); colours {text, link, muted}. Returns the links drawn:
 * [{href, x, y, w, h}] in graph units.
 */
export function drawMarkdown(ctx, blocks, box, colors) {
  const links = [];
  const bottom = box.y + box.h;
  let y = box.y;
  ctx.textBaseline = "top";
  for (const block of blocks) {
    const lineH = LINE[block.kind];
    if (y + lineH > bottom) break;
    if (block.kind === "blank") { y += lineH; continue; }
    if (block.kind === "rule") {
      ctx.fillStyle = colors.muted;
      ctx.fillRect(box.x, y + lineH / 2, box.w, 1);
      y += lineH;
      continue;
    }
    const indent = block.kind === "quote" || block.kind === "item" ? 14 : 0;
    const left = box.x + indent;
    const width = Math.max(10, box.w - indent);
    const top = y;
    let x = left;
    let lines = 1;
    if (block.kind === "item") { ctx.fillStyle = colors.text; ctx.font = FONTS.p; ctx.fillText("•", box.x + 3, y); }
    for (const span of block.spans) {
      ctx.font = fontFor(block.kind, span);
      for (const token of span.text.split(/(\s+)/)) {
        if (!token) continue;
        const space = /^\s+$/.test(token);
        if (space && x === left) continue; // no blank at the start of a line
        const pieces = space ? [token] : breakWord(ctx, token, width);
        for (const piece of pieces) {
          const w = ctx.measureText(piece).width;
          if (x + w > left + width && x > left) {
            if (space) break;
            y += lineH;
            lines += 1;
            x = left;
            if (y + lineH > bottom) break;
          }
          if (y + lineH > bottom) break;
          ctx.fillStyle = span.href ? colors.link : colors.text;
          if (!space) ctx.fillText(piece, x, y);
          if (span.href && !space) {
            ctx.fillRect(x, y + lineH - 4, w, 1);
            links.push({ href: span.href, x, y, w, h: lineH });
          }
          x += w;
        }
      }
    }
    if (block.kind === "quote") { ctx.fillStyle = colors.muted; ctx.fillRect(box.x + 3, top, 3, lines * lineH - 2); }
    y += lineH;
  }
  ctx.textBaseline = "middle";
  return links;
}

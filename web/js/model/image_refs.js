// Image file references as the server names them: a widget value "sub/x.png [output]" <-> the
// {filename, subfolder, type} of /view and /upload/mask <-> a /view URL. Pure functions.

const ANNOTATION = /\s*\[(input|output|temp)\]$/;

/** A LoadImage widget value -> {filename, subfolder, type}; null for an empty value. */
export function imageRef(value) {
  if (typeof value !== "string" || !value) return null;
  const match = value.match(ANNOTATION);
  const type = match ? match[1] : "input";
  const path = match ? value.slice(0, match.index) : value;
  const cut = path.lastIndexOf("/");
  return { filename: path.slice(cut + 1), subfolder: cut >= 0 ? path.slice(0, cut) : "", type };
}

/** {filename, subfolder, type} -> the widget value LoadImage takes (annotated outside input/). */
export function refValue(ref) {
  const path = ref.subfolder ? `${ref.subfolder}/${ref.filename}` : ref.filename;
  return ref.type && ref.type !== "input" ? `${path} [${ref.type}]` : path;
}

/** The /view path of a reference (relative to the server's base). */
export function viewPath(ref) {
  const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder || "", type: ref.type || "output" });
  return `/view?${q}`;
}

/** A /view URL -> its reference; null for other URLs. */
export function refFromUrl(url) {
  const parsed = new URL(url, "http://x/");
  if (!parsed.pathname.endsWith("/view") || !parsed.searchParams.get("filename")) return null;
  const q = parsed.searchParams;
  return { filename: q.get("filename"), subfolder: q.get("subfolder") || "", type: q.get("type") || "output" };
}

/** The file name part of a reference, without its extension. */
export function stemOf(ref) {
  return ref.filename.replace(/\.[^.]*$/, "");
}

// The matched words of a search hit, as segments to render with {{ }} (text nodes, never
// HTML): [{text, hit}] where `hit` marks a match of one of the query's words, compared
// case-insensitively. Long texts are cut to an excerpt around the first match.

/** The query's words: split on white space, longest first (so "合同书" wins over "合同"). */
export function terms(q) {
  const words = String(q || "").split(/\s+/).map((w) => w.trim()).filter(Boolean);
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Split `text` into [{text, hit}] segments by the words of `q`. */
export function highlight(text, q) {
  const s = String(text ?? "");
  const words = terms(q);
  if (!s || !words.length) return s ? [{ text: s, hit: false }] : [];
  const re = new RegExp(words.map(escapeRe).join("|"), "giu");
  const out = [];
  let at = 0;
  for (const m of s.matchAll(re)) {
    if (!m[0]) continue;
    if (m.index > at) out.push({ text: s.slice(at, m.index), hit: false });
    out.push({ text: m[0], hit: true });
    at = m.index + m[0].length;
  }
  if (at < s.length) out.push({ text: s.slice(at), hit: false });
  return out;
}

/** An excerpt of at most about `max` characters of `text` around the first match of `q`. */
export function excerpt(text, q, max = 120) {
  const s = String(text ?? "").replace(/\s+/g, " ").trim();
  const chars = [...s];
  if (chars.length <= max) return s;
  const lower = s.toLowerCase();
  let first = -1;
  for (const w of terms(q)) {
    const i = lower.indexOf(w.toLowerCase());
    if (i >= 0 && (first < 0 || i < first)) first = i;
  }
  const pos = first < 0 ? 0 : [...s.slice(0, first)].length; // in characters, not UTF-16 units
  const start = Math.max(0, Math.min(pos - Math.floor(max / 3), chars.length - max));
  const cut = chars.slice(start, start + max).join("");
  return `${start > 0 ? "…" : ""}${cut}${start + max < chars.length ? "…" : ""}`;
}

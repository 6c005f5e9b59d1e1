// How a person (or group) without a picture is shown, the same in the chat client and
// the admin console: initials on a colour picked from the id.
const PALETTE = ["#3b82f6", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#14b8a6", "#f97316", "#6366f1"];

export function avatarColor(id) {
  let h = 0;
  for (const ch of String(id || "")) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** Up to two characters for an avatar: a Chinese given name, two initials, or one letter. */
export function initials(name) {
  const s = String(name || "?").trim();
  if (!s) return "?";
  const chars = [...s.replace(/\s+/g, "")];
  const cjk = /^[\u3400-\u9fff]$/;
  // Chinese names show their last two characters (王小明 -> 小明), as chat apps do
  if (chars.every((ch) => cjk.test(ch))) return chars.slice(-2).join("");
  if (cjk.test(chars[0])) return chars[0];
  const words = s.split(/[\s._-]+/).filter(Boolean);
  if (words.length >= 2) return (words[0][0] + words[1][0]).toUpperCase();
  return [...s][0].toUpperCase();
}

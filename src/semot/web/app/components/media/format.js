// Pure helpers of the media bubbles: sizes, durations, preview boxes and file type badges.
// No DOM, no state: what they compute is shown as text (never as markup).

/** "0 B", "980 B", "1.2 KB", "34 MB", "1.5 GB" (binary units, one decimal below 10). */
export function humanSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, "") : Math.round(v)} ${units[i]}`;
}

/** 0:05, 1:02, 1:02:03 from milliseconds (rounded to the nearest second, at least 1 s
 * when there is any sound at all: "0:00" for a real recording reads as broken). */
export function clockDuration(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return "0:00";
  const total = Math.max(1, Math.round(n / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** 0:00, 0:07, 1:02 for a play position in seconds (rounded down, as players count). */
export function clockElapsed(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/**
 * The on-screen box of an image or video preview, from the sizes the server measured:
 * the longer side at most `max` px, the shorter at least `min` px (a panorama stays
 * tappable). Known before a byte is loaded, so the chat never jumps when the image
 * arrives. Unknown sizes (a message of mine before the server's copy is fetched) get a
 * 4:3 box.
 */
export function previewBox(w, h, max = 240, min = 64) {
  let width = Number(w);
  let height = Number(h);
  if (!(width > 0 && height > 0)) return { width: max, height: Math.round((max * 3) / 4) };
  const scale = Math.min(1, max / Math.max(width, height));
  width = Math.max(min, Math.round(width * scale));
  height = Math.max(min, Math.round(height * scale));
  return { width: Math.min(width, max), height: Math.min(height, max) };
}

const TYPES = [
  // [label, colour, mime test, extensions]
  ["PDF", "#e5484d", (m) => m === "application/pdf", ["pdf"]],
  ["DOC", "#2f66e8", (m) => m.includes("wordprocessing") || m === "application/msword" || m.includes("opendocument.text"), ["doc", "docx", "odt", "rtf", "pages"]],
  ["XLS", "#16a34a", (m) => m.includes("spreadsheet") || m === "application/vnd.ms-excel" || m === "text/csv", ["xls", "xlsx", "ods", "csv", "numbers"]],
  ["PPT", "#f97316", (m) => m.includes("presentation") || m === "application/vnd.ms-powerpoint", ["ppt", "pptx", "odp", "key"]],
  ["ZIP", "#8b5cf6", (m) => /zip|x-7z|x-rar|x-tar|gzip|x-bzip|x-xz|zstd/.test(m), ["zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "xz", "zst"]],
  ["IMG", "#06b6d4", (m) => m.startsWith("image/"), ["png", "jpg", "jpeg", "gif", "webp", "bmp", "svg", "heic", "tif", "tiff"]],
  ["AUD", "#ec4899", (m) => m.startsWith("audio/"), ["mp3", "wav", "ogg", "oga", "opus", "m4a", "flac", "aac"]],
  ["VID", "#6366f1", (m) => m.startsWith("video/"), ["mp4", "mov", "webm", "mkv", "avi", "m4v"]],
  ["CODE", "#475569", (m) => /json|xml|javascript|x-python|x-sh|html|css/.test(m), ["js", "ts", "py", "json", "xml", "html", "css", "sh", "go", "rs", "java", "c", "cpp", "h", "yaml", "yml", "toml", "sql"]],
  ["TXT", "#64748b", (m) => m.startsWith("text/"), ["txt", "md", "log"]],
  ["APP", "#b45309", (m) => /x-msdownload|x-executable|vnd.android|x-apple-diskimage|x-debian/.test(m), ["exe", "msi", "apk", "dmg", "deb", "rpm", "appimage"]],
];

/** The extension of a file name, lower case ("" for none). */
export function extension(name) {
  const s = String(name || "");
  const i = s.lastIndexOf(".");
  return i > 0 && i < s.length - 1 ? s.slice(i + 1).toLowerCase() : "";
}

/**
 * The type badge of a file card: `{label, color}`. The server's sniffed `mime` decides
 * first (it never trusts the sender); the extension only refines a generic type
 * (a .docx is sniffed as application/zip) or stands in for application/octet-stream.
 */
export function fileType(mime, name) {
  const m = String(mime || "").toLowerCase();
  const ext = extension(name);
  const byExt = TYPES.find((t) => t[3].includes(ext));
  const generic = !m || m === "application/octet-stream" || m === "application/zip" || m === "text/plain";
  if (byExt && generic) return { label: byExt[0], color: byExt[1] };
  const byMime = TYPES.find((t) => t[2](m));
  if (byMime) return { label: byMime[0], color: byMime[1] };
  if (byExt) return { label: byExt[0], color: byExt[1] };
  return { label: ext && ext.length <= 4 ? ext.toUpperCase() : "FILE", color: "#94a3b8" };
}

/**
 * When a signed URL stops working, if it says so: the `exp` query parameter (ms since
 * the epoch) of the server's signed URLs. Null when the URL carries none (another
 * server, or object storage that signs its own way): then only a failed load tells.
 */
export function urlExpiry(url) {
  if (!url) return null;
  try {
    const exp = Number(new URL(url, "http://x/").searchParams.get("exp"));
    return Number.isFinite(exp) && exp > 0 ? exp : null;
  } catch {
    return null;
  }
}

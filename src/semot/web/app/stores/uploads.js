// Files being uploaded from the composer and sent as messages once the server has them.
//
// Each picked, pasted, dropped or recorded file becomes an item with its own upload bar
// (name, progress, state, pause/resume, cancel). The upload itself is the SDK's
// (client.upload: tus, resumable; when the browser goes offline it waits and continues
// from the server's offset when the network is back). When it completes, the message
// kind follows the type the server sniffed (never the browser's guess): image/* as
// `image`, video/* as `video` (with the duration read from a <video> element's
// metadata), a recording as `voice` (with the measured duration), the rest as `file`.
// Files picked together are sent in the order they were picked, whichever finishes first.
// Sent while replying (the composer's quote bar), the first file of the batch carries the
// quote (`body.reply_to`, as a text reply does); the rest follow as plain files.
import { reactive } from "vue";
import { client, sendMessage } from "../store.js";

export const uploads = reactive({ items: [] });
let nextId = 0;
const chains = new Map(); // conv id -> the promise of the last send queued in it

/** The items of one conversation, oldest first. */
export function uploadsOf(convId) {
  return uploads.items.filter((u) => u.conv === convId);
}

/** 0..100 */
export function percent(u) {
  return u.total ? Math.min(100, Math.floor((u.sent * 100) / u.total)) : 0;
}

/**
 * The message kind for a complete upload, from the server's sniffed mime: images (SVG
 * is a document, not a picture the server measures) as image, videos with a duration as
 * video, a recording as voice, anything else as file.
 */
export function kindFor(info, { voice = false, durationMs = null } = {}) {
  const mime = (info && info.mime) || "";
  if (voice) return "voice";
  if (mime.startsWith("image/") && mime !== "image/svg+xml") return "image";
  if (mime.startsWith("video/") && (durationMs > 0 || info.duration_ms > 0)) return "video";
  return "file";
}

/** A video's duration in ms from its metadata (null if the browser cannot read it). */
export function videoDuration(file, timeoutMs = 8000) {
  if (!file.type || !file.type.startsWith("video/") || typeof document === "undefined") return Promise.resolve(null);
  return new Promise((resolve) => {
    const v = document.createElement("video");
    const url = URL.createObjectURL(file);
    let timer = null;
    const done = (ms) => {
      clearTimeout(timer);
      v.removeAttribute("src");
      v.load();
      URL.revokeObjectURL(url);
      resolve(ms);
    };
    timer = setTimeout(() => done(null), timeoutMs);
    v.preload = "metadata";
    v.muted = true;
    v.onloadedmetadata = () => done(Number.isFinite(v.duration) && v.duration > 0 ? Math.round(v.duration * 1000) : null);
    v.onerror = () => done(null);
    v.src = url;
  });
}

function removeItem(u) {
  const i = uploads.items.indexOf(u);
  if (i >= 0) uploads.items.splice(i, 1);
}

/**
 * Upload `files` (File/Blob list) and send each as a message in `conv`, in order.
 * `voiceDurationMs`: the files are recordings of that length (sent as voice).
 * `replyTo`: the quote ({seq, ...}) the first of them answers.
 */
export function sendFiles(conv, files, { voiceDurationMs = null, replyTo = null } = {}) {
  const created = [];
  for (const [index, file] of [...files].entries()) {
    const quote = index === 0 && replyTo && Number.isInteger(replyTo.seq) ? { ...replyTo } : null;
    const name = file.name || (voiceDurationMs ? "voice.webm" : "file");
    const u = reactive({
      id: ++nextId, conv: conv.id, name, size: file.size, sent: 0, total: file.size,
      state: "starting", error: "", fileId: null, voice: !!voiceDurationMs,
    });
    uploads.items.push(u);
    const item = uploads.items[uploads.items.length - 1];
    const handle = client.upload(file, {
      name,
      onProgress: (sent, total) => {
        item.sent = sent;
        item.total = total;
      },
      onState: (h) => {
        if (item.state !== "sending") item.state = h.state;
      },
      onUrl: (h) => (item.fileId = h.fileId),
    });
    handles.set(item.id, handle);
    const duration = voiceDurationMs ? Promise.resolve(voiceDurationMs) : videoDuration(file);
    const ready = Promise.all([handle.promise, duration]);
    const prev = chains.get(conv.id) || Promise.resolve();
    const mine = prev.then(() => ready).then(
      ([info, ms]) => {
        item.fileId = info.file_id;
        const kind = kindFor(info, { voice: !!voiceDurationMs, durationMs: ms });
        const body = { file_id: info.file_id };
        if (kind === "voice" || kind === "video") body.duration_ms = ms || info.duration_ms;
        if (quote) body.reply_to = quote;
        item.state = "sending";
        sendMessage(conv, kind, body); // a pending bubble until the server acks it
        handles.delete(item.id);
        removeItem(item);
      },
      (error) => {
        handles.delete(item.id);
        if (item.state === "aborted") {
          removeItem(item);
          return;
        }
        item.state = "failed";
        item.error = (error && (error.message || error.code)) || String(error);
      },
    );
    chains.set(conv.id, mine);
    mine.finally(() => {
      if (chains.get(conv.id) === mine) chains.delete(conv.id);
    });
    created.push(item);
  }
  return created;
}

// The SDK handles, kept out of the reactive state (Vue must not proxy them).
const handles = new Map();

export function pauseUpload(u) {
  const h = handles.get(u.id);
  if (h) h.pause();
}

export function resumeUpload(u) {
  const h = handles.get(u.id);
  if (h) h.resume();
}

/** Stop and forget an upload (the server deletes what it received). */
export function cancelUpload(u) {
  const h = handles.get(u.id);
  if (h) h.abort();
  removeItem(u);
}

/** Forget a failed item. */
export function dismissUpload(u) {
  handles.delete(u.id);
  removeItem(u);
}

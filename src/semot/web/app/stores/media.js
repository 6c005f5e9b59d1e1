// Fresh signed URLs for media messages.
//
// The `url` / `thumb_url` of an image, voice, video or file message work without a token
// for a limited time only; the server signs them again on every `history` and `sync`.
// A message that stayed on screen for a long time (or came from the outbox echo of my own
// send, which has no URLs at all) is therefore fetched again, one message at a time, with
// `history` around its seq:
//   - before it is shown, when its URL says it has expired (the `exp` hint), or has no URL;
//   - when an <img>/<audio>/<video> fails to load (expired, or any other reason).
// A URL that fails although the server handed it out moments ago (the file is gone or
// no longer readable), or a message that cannot be fetched (offline), marks the message
// `failed`: the bubble shows a fallback with a retry button instead of looping.
import { reactive } from "vue";
import { client, state } from "../store.js";
import { urlExpiry } from "../components/media/format.js";

export const MEDIA_KINDS = new Set(["image", "voice", "video", "file"]);

/** What the bubbles watch: `failed[conv#seq]` is true while a message's media cannot load. */
export const media = reactive({ failed: {} });

const FRESH_MS = 10_000; // a URL the server gave this recently that fails is not refetched
const EARLY_MS = 5_000; // refresh a URL this long before it expires

const inflight = new Map(); // key -> Promise<boolean>
const freshUrls = new Map(); // key -> {at, urls}: what the last refetch of the message gave

export function mediaKey(convId, seq) {
  return `${convId}#${seq}`;
}

/** Whether a stored media message should be fetched again before its media is shown. */
export function needsRefresh(msg, now = Date.now()) {
  if (!msg || !MEDIA_KINDS.has(msg.kind) || !(msg.seq > 0)) return false;
  const b = msg.body || {};
  if (!b.file_id) return false;
  if (!b.url) return true;
  for (const u of [b.url, b.thumb_url]) {
    const exp = urlExpiry(u);
    if (exp !== null && exp - EARLY_MS <= now) return true;
  }
  return false;
}

/** Put the server's copy of a message in place of the one on screen (and in the
 * conversation's preview), keeping the local extras (burn countdown, read marks). */
function apply(convId, fresh) {
  const c = state.convs[convId];
  if (!c || !fresh) return;
  const m = c.messages.find((x) => x.seq === fresh.seq);
  if (m) {
    if (fresh.kind !== m.kind) m.kind = fresh.kind; // recalled or burned meanwhile
    m.body = fresh.body || {};
  }
  if (c.last && c.last.seq === fresh.seq) c.last = { ...c.last, kind: fresh.kind, body: fresh.body || {} };
}

/** Whether `url` is one the last refetch of this message gave, moments ago. */
function justFetched(key, url) {
  const f = freshUrls.get(key);
  return !!f && Date.now() - f.at < FRESH_MS && (url === undefined || f.urls.includes(url));
}

/**
 * Fetch message `seq` of `convId` again (history: the one message after seq - 1) and
 * show its fresh URLs. Resolves true when the fresh copy is in place. Unless `force`
 * (the user pressed retry), a URL (`failedUrl`, or any when not given) that the
 * previous refetch gave moments ago is not fetched again: the message is marked failed,
 * so a file that cannot load never loops.
 */
export function refreshMessage(convId, seq, { force = false, failedUrl = undefined } = {}) {
  if (!(seq > 0)) return Promise.resolve(false);
  const key = mediaKey(convId, seq);
  if (inflight.has(key)) return inflight.get(key);
  if (!force && justFetched(key, failedUrl)) {
    media.failed[key] = true;
    return Promise.resolve(false);
  }
  const p = (async () => {
    try {
      if (!client.connected) await client.waitOpen(15_000);
      const page = await client.history(convId, { after: seq - 1, limit: 1 });
      const fresh = (page.messages || []).find((x) => x.seq === seq);
      if (!fresh) throw new Error("message not found");
      const b = fresh.body || {};
      freshUrls.set(key, { at: Date.now(), urls: [b.url, b.thumb_url].filter(Boolean).map(absolute) });
      apply(convId, fresh);
      delete media.failed[key];
      return true;
    } catch {
      media.failed[key] = true;
      return false;
    } finally {
      inflight.delete(key);
    }
  })();
  inflight.set(key, p);
  return p;
}

/** A media element of this message failed to load `url`: fetch fresh URLs (once). */
export function onMediaError(convId, msg, url = undefined) {
  if (!msg || !(msg.seq > 0)) return Promise.resolve(false);
  return refreshMessage(convId, msg.seq, { failedUrl: url ? absolute(url) : undefined });
}

/** URLs compare as the browser resolved them (an element's src is absolute). */
function absolute(url) {
  try {
    return new URL(url, location.href).href;
  } catch {
    return url;
  }
}

/** Before showing a message: fresh URLs if its own say they have expired (or are missing). */
export function ensureFresh(convId, msg) {
  if (needsRefresh(msg) && !media.failed[mediaKey(convId, msg.seq)]) refreshMessage(convId, msg.seq);
}

/** The user pressed retry on a media fallback. */
export function retryMedia(convId, msg) {
  return refreshMessage(convId, msg.seq, { force: true });
}

// One voice message plays at a time: starting one pauses the one playing.
let playing = null;
export function claimPlayback(el) {
  if (playing && playing !== el && !playing.paused) playing.pause();
  playing = el;
}

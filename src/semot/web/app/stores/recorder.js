// Voice recording for the composer (MediaRecorder): start, the elapsed time, cancel, and
// stop-and-send as a `voice` message whose duration is measured here, from the first
// to the last recorded moment (the server may refine it from the file itself).
import { reactive } from "vue";
import { sendFiles } from "./uploads.js";
import { takeReply } from "./replies.js";

const MAX_MS = 10 * 60 * 1000; // the server's longest voice message

export const recorder = reactive({
  state: "idle", // idle | starting | recording
  conv: null,
  elapsedMs: 0,
  error: "", // an i18n key when the microphone could not be used
});

let media = null;
let stream = null;
let chunks = [];
let startedAt = 0;
let stoppedAt = 0;
let ticker = null;
let sendOnStop = false;
let target = null;

export function canRecord() {
  return typeof MediaRecorder === "function" && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

function mimeType() {
  for (const m of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"]) {
    if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(m)) return m;
  }
  return "";
}

function cleanup() {
  clearInterval(ticker);
  ticker = null;
  if (stream) for (const tr of stream.getTracks()) tr.stop();
  stream = null;
  media = null;
  chunks = [];
  recorder.state = "idle";
  recorder.conv = null;
  recorder.elapsedMs = 0;
}

/** Ask for the microphone and start recording for `conv`. */
export async function startRecording(conv) {
  if (recorder.state !== "idle") return;
  recorder.error = "";
  recorder.state = "starting";
  recorder.conv = conv.id;
  target = conv;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    cleanup();
    recorder.error = error && error.name === "NotAllowedError" ? "voice.denied" : "voice.noMic";
    return;
  }
  if (recorder.state !== "starting") {
    // cancelled while the permission prompt was open
    for (const tr of stream.getTracks()) tr.stop();
    stream = null;
    return;
  }
  const type = mimeType();
  media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  chunks = [];
  sendOnStop = false;
  stoppedAt = 0;
  media.ondataavailable = (e) => {
    if (e.data && e.data.size) chunks.push(e.data);
  };
  media.onstop = () => {
    const ms = Math.round((stoppedAt || performance.now()) - startedAt);
    const parts = chunks;
    const conv = target;
    const mt = (media && media.mimeType) || type || "audio/webm";
    const send = sendOnStop;
    cleanup();
    if (!send || !parts.length || ms < 300) return; // too short to be meant
    const ext = mt.includes("ogg") ? "ogg" : mt.includes("mp4") ? "m4a" : "webm";
    const file = new File(parts, `voice-${new Date().toISOString().replace(/[:.]/g, "-")}.${ext}`, { type: mt.split(";")[0] });
    sendFiles(conv, [file], { voiceDurationMs: Math.min(ms, MAX_MS), replyTo: takeReply(conv) });
  };
  media.start(250);
  startedAt = performance.now();
  recorder.state = "recording";
  ticker = setInterval(() => {
    recorder.elapsedMs = Math.round(performance.now() - startedAt);
    if (recorder.elapsedMs >= MAX_MS) stopRecording(true);
  }, 200);
}

/** Stop; with `send`, upload and send the recording as a voice message. */
export function stopRecording(send = true) {
  if (recorder.state === "starting") {
    cleanup();
    return;
  }
  if (recorder.state !== "recording" || !media) return;
  sendOnStop = send;
  stoppedAt = performance.now();
  media.stop(); // onstop sends (or drops) it
}

export function cancelRecording() {
  stopRecording(false);
}

/** "m:ss" */
export function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

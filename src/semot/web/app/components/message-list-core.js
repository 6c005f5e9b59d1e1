// The arithmetic of the virtual message list (components/message-list.js), kept apart
// from Vue so that it stays small and obviously right: row heights are measured once a
// row has been on screen and estimated before; the list is laid out from prefix sums of
// those heights, and "which rows are on screen" is a binary search in them. A long
// history (10,000 messages) then costs the DOM only the rows in and near the viewport,
// which is what keeps a new message's render and scrolling fast (issue 11, defect 2).
import { dayKey } from "../util.js";

/** Heights before a row has been measured: near the usual size, so the scrollbar and the
 * jump to a far message land close; media rows use their known box (body w/h). */
export function estimate(item) {
  if (item.type !== "msg") return 40;
  const m = item.msg;
  if (m.kind === "system" || m.kind === "recalled" || m.kind === "burned") return 42;
  const b = m.body || {};
  if ((m.kind === "image" || m.kind === "video") && b.w > 0 && b.h > 0) {
    const w = Math.min(240, b.w);
    return Math.min(320, Math.round((w * b.h) / b.w)) + 44;
  }
  if (m.kind === "text" && typeof b.text === "string") return 70 + 22 * Math.floor(b.text.length / 60);
  return 80;
}

/** offsets[i] = top of row i, offsets[n] = the list's height. */
export function layout(items, heights) {
  const o = new Float64Array(items.length + 1);
  for (let i = 0; i < items.length; i += 1) {
    const h = heights.get(items[i].key);
    o[i + 1] = o[i] + (h === undefined ? estimate(items[i]) : h);
  }
  return o;
}

/** The row at height y: the largest i with offsets[i] <= y (0 for y < 0, n-1 past the end). */
export function rowAt(offsets, y) {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rows [start, end) to render for a viewport [top, top + height), with `over` pixels
 * and at least `rows` rows more on each side (a short chat is then rendered whole);
 * rounded out to multiples of `step` so that a slow scroll re-renders every few rows
 * rather than at every row boundary. */
export function windowOf(offsets, top, height, over, step, rows = 0) {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  let start = Math.min(rowAt(offsets, top - over), rowAt(offsets, top) - rows);
  let end = Math.max(rowAt(offsets, top + height + over), rowAt(offsets, top + height) + rows) + 1;
  start = Math.max(0, Math.floor(start / step) * step);
  end = Math.min(n, Math.ceil(end / step) * step);
  return [start, end];
}

// Day keys are asked for every message on every change of the window: cache them per
// message object (a Date per message per push would show with 10,000 messages).
const days = new WeakMap();
export function dayOf(m) {
  let d = days.get(m);
  if (d === undefined || d.ts !== m.ts) {
    d = { ts: m.ts, key: dayKey(m.ts) };
    days.set(m, d);
  }
  return d.key;
}

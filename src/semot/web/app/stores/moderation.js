// Pre-moderation in the web client (docs/moderation.md). A send to a group with review
// on is answered `pending_review` with the held message's `mid`: the pending bubble stays
// in the chat, marked "under review" (status "review", keyed by its mid). Approval
// delivers the stored message with the same cid, which replaces the bubble (store.js drops
// my pending item when my own message arrives), so nothing shows twice; a rejection
// (`evt moderation` "rejected", or a resend answered `blocked` with details.rejected)
// marks it "rejected: <reason>". After a reload, GET /api/v1/moderation/mine brings the
// held and recently rejected messages back.
import { client, ensureConv, state } from "../store.js";
import { MESSAGES } from "../i18n.js";

Object.assign(MESSAGES["zh-CN"], {
  "review.pending": "审核中",
  "review.hint": "群主开启了消息审核：审核通过后群成员才能看到这条消息",
  "review.rejected": "未通过审核",
  "review.rejectedWhy": "未通过审核：{reason}",
  "review.timeout": "审核超时",
  "err.pending_review": "消息审核中",
  "group.policy.review": "消息审核（先审后发）",
  "group.policy.reviewHint": "开启后，普通成员的消息需经管理后台审核通过才会发出；群主和管理员不受影响。",
});
Object.assign(MESSAGES.en, {
  "review.pending": "Under review",
  "review.hint": "This group reviews messages: members see it once a reviewer approves it",
  "review.rejected": "Rejected",
  "review.rejectedWhy": "Rejected: {reason}",
  "review.timeout": "review timed out",
  "err.pending_review": "Under review",
  "group.policy.review": "Review messages before they are sent",
  "group.policy.reviewHint": "Members' messages wait for approval in the admin console; the owner and admins are never held.",
});

function findPending(pred) {
  for (const c of Object.values(state.convs)) {
    const p = c.pending.find(pred);
    if (p) return { c, p };
  }
  return null;
}

function markReview(p, mid) {
  p.status = "review";
  p.mid = mid;
  p.error = "";
  p.permanent = true; // never retried: the server holds it
}

function markRejected(p, mid, reason) {
  p.status = "rejected";
  if (mid) p.mid = mid;
  p.reason = reason || "";
  p.error = "";
  p.permanent = true;
}

// store.js marked it "failed" a moment ago (its listener runs first): say what it really is
client.on("send_failed", ({ cid, error }) => {
  if (!error) return;
  const found = findPending((x) => x.cid === cid);
  if (!found) return;
  if (error.code === "pending_review") markReview(found.p, error.mid);
  else if (error.code === "blocked" && error.details && error.details.rejected) {
    markRejected(found.p, error.details.mid, error.details.reason);
  }
});

client.on("event", (e) => {
  if (e.evt !== "moderation") return;
  const found = findPending((x) => x.mid === e.mid);
  if (!found) return;
  if (e.action === "rejected") markRejected(found.p, e.mid, e.reason);
  // approved: the message itself arrives (same cid) and replaces the bubble
});

/** Bring back my held and rejected messages (after a reload or a reconnect). */
export async function loadHeld() {
  let items;
  try {
    ({ items } = await client.http("GET", "/api/v1/moderation/mine"));
  } catch {
    return; // older server, or offline
  }
  for (const it of items || []) {
    const c = ensureConv(it.conv);
    if ((c.messages || []).some((m) => m.mid === it.mid)) continue; // already stored and loaded
    let p = c.pending.find((x) => x.cid === it.cid || x.mid === it.mid);
    if (!p) {
      p = { cid: it.cid, kind: it.kind, body: it.body, opts: it.opts || {}, ts: it.ts, status: "review", error: "" };
      c.pending.push(p);
      if (!c.lastTs || it.ts > c.lastTs) c.lastTs = it.ts;
    }
    if (it.status === "rejected") markRejected(p, it.mid, it.reason);
    else markReview(p, it.mid);
  }
}

client.on("state", ({ state: s }) => {
  if (s === "open") loadHeld();
});

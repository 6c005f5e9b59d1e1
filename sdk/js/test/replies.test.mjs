// The outbox and replies against a real server: a send refused for good (a plain
// member's @everyone) leaves the outbox marked permanent and is never retried;
// `replyTo` sends a quote the server fills, and the own copy carries it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { PERMANENT_SEND_ERRORS, SemotAPIError, directConv, isPermanentSendError } from "../semot.js";
import { Inbox, Server, sleep, uniq, until, user } from "./helpers.mjs";

let server;
const clients = [];
before(async () => {
  server = await Server.start();
});
after(async () => {
  for (const c of clients) await c.close();
  await server.cleanup();
});

async function connected(name) {
  const c = await user(server, uniq(name));
  clients.push(c);
  await c.connect();
  return c;
}

test("a send refused for good is reported permanent and never retried", async () => {
  const owner = await connected("own");
  const member = await connected("mem");
  const g = await owner.createGroup("team", [member.userId]);
  const failed = [];
  member.on("send_failed", (f) => failed.push(f));
  let sends = 0;
  const request = member.request.bind(member);
  member.request = (t, fields, o) => {
    if (t === "send") sends += 1;
    return request(t, fields, o);
  };
  await assert.rejects(member.sendText(g.conv, "@everyone meeting", { mentionAll: true }), (e) => e.code === "forbidden");
  await until(() => failed.length === 1, 10000, "send_failed");
  assert.equal(failed[0].permanent, true);
  assert.ok(isPermanentSendError(failed[0].error));
  assert.equal(member.outbox.length, 0);
  await sleep(1200); // no retry behind the user's back
  assert.equal(sends, 1);
  // The owner may: the same body goes through.
  const ack = await owner.sendText(g.conv, "@everyone meeting", { mentionAll: true });
  assert.ok(ack.seq > 0);
  // What may pass later is not permanent.
  for (const code of ["unavailable", "rate_limited", "muted", "internal"]) {
    assert.equal(isPermanentSendError(new SemotAPIError(code, "x")), false, code);
  }
  for (const code of ["forbidden", "bad_request", "not_found", "blocked"]) assert.ok(PERMANENT_SEND_ERRORS.has(code), code);
});

test("replyTo: the server fills the quote, the ack and the own copy carry it", async () => {
  const a = await connected("ra");
  const b = await connected("rb");
  const ia = new Inbox(a);
  const ib = new Inbox(b);
  const conv = directConv(a.userId, b.userId);
  const q = await b.sendText(a.userId, "lunch at noon?");
  await ia.waitFor((items) => items.some((m) => m.seq === q.seq), 10000, "the question");
  // A made-up excerpt is overwritten by the stored original's.
  const ack = await a.sendText(b.userId, "yes", { replyTo: { seq: q.seq, from: a.userId, kind: "text", text: "forged" } });
  const expected = { seq: q.seq, from: b.userId, kind: "text", text: "lunch at noon?" };
  assert.deepEqual(ack.reply_to, expected);
  const own = await ia.waitFor((items) => items.some((m) => m.seq === ack.seq), 10000, "own copy");
  assert.deepEqual(own.find((m) => m.seq === ack.seq).body, { text: "yes", reply_to: expected });
  const theirs = await ib.waitFor((items) => items.some((m) => m.seq === ack.seq), 10000, "the reply");
  assert.deepEqual(theirs.find((m) => m.seq === ack.seq).body.reply_to, expected);
  // A number works too; a bad one is refused before it reaches the outbox.
  const ack2 = await a.send(b.userId, "location", { lat: 1, lng: 2 }, { replyTo: q.seq });
  assert.equal(ack2.reply_to.text, "lunch at noon?");
  await assert.rejects(a.sendText(b.userId, "x", { replyTo: 0 }), RangeError);
  assert.equal(a.outbox.length, 0);
  // A seq that is not in this conversation: not_found, permanent.
  await assert.rejects(a.sendText(b.userId, "x", { replyTo: 9999 }), (e) => e.code === "not_found" && isPermanentSendError(e));
  assert.equal(conv, ack.conv);
});

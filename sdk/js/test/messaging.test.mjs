// Messaging against a real server: delivery both ways, own sends from the ack, events,
// groups, history, a seq gap repaired from history, and handlers that send.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { SemotAPIError, directConv } from "../semot.js";
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

async function pair() {
  const a = await user(server, uniq("a"));
  const b = await user(server, uniq("b"));
  clients.push(a, b);
  const ia = new Inbox(a);
  const ib = new Inbox(b);
  await a.connect();
  await b.connect();
  return { a, b, ia, ib, conv: directConv(a.userId, b.userId) };
}

test("two users chat both ways; own sends are delivered from the ack", async () => {
  const { a, b, ia, ib, conv } = await pair();
  const ack = await a.sendText(b.userId, "hello bob");
  assert.equal(ack.conv, conv);
  assert.equal(ack.seq, 1);
  await ib.count(1);
  assert.equal(ib.items[0].body.text, "hello bob");
  assert.equal(ib.items[0].from, a.userId);
  await ia.count(1);
  assert.deepEqual(
    { conv: ia.items[0].conv, seq: ia.items[0].seq, from: ia.items[0].from, text: ia.items[0].body.text, cid: ia.items[0].cid },
    { conv, seq: 1, from: a.userId, text: "hello bob", cid: ib.items[0].cid },
  );
  await b.sendText(a.userId, "hi alice");
  await ia.count(2);
  await ib.count(2);
  assert.deepEqual(ia.items.map((m) => m.seq), [1, 2]);
  assert.deepEqual(ib.items.map((m) => m.body.text), ["hello bob", "hi alice"]);
});

test("pipelined sends keep their order; a resend with the same cid stores nothing new", async () => {
  const { a, b, ib, conv } = await pair();
  const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => a.sendText(b.userId, `n${i}`)));
  assert.deepEqual(acks.map((x) => x.seq), Array.from({ length: 30 }, (_, i) => i + 1));
  await ib.count(30);
  assert.deepEqual(ib.items.map((m) => m.body.text), Array.from({ length: 30 }, (_, i) => `n${i}`));
  const again = await a.sendText(b.userId, "n0", { cid: ib.items[0].cid });
  assert.equal(again.seq, 1, "the original ack");
  const h = await a.history(conv, { after: 0, limit: 200 });
  assert.equal(h.messages.length, 30);
});

test("events: typing, read, recall (with the system notice), burn after reading", async () => {
  const { a, b, ib, conv } = await pair();
  const evA = [];
  const evB = [];
  a.on("event", (e) => evA.push(e));
  b.on("event", (e) => evB.push(e));
  await a.typing(conv);
  await until(() => evB.some((e) => e.evt === "typing" && e.user === a.userId), 15000, "typing");
  const ack = await a.sendText(b.userId, "secret", { opts: { burn_s: 1 } });
  await ib.count(1);
  assert.deepEqual(ib.items[0].opts, { burn_s: 1 });
  await b.read(conv, ack.seq);
  await until(() => evA.some((e) => e.evt === "read" && e.seq === ack.seq && e.user === b.userId), 15000, "read");
  await until(() => evA.some((e) => e.evt === "burned" && e.seq === ack.seq), 15000, "burned");
  const ack2 = await a.sendText(b.userId, "oops");
  await ib.count(2);
  await a.recall(conv, ack2.seq);
  await until(() => evB.some((e) => e.evt === "recall" && e.seq === ack2.seq && e.by === a.userId), 15000, "recall");
  // the recall also leaves a system notice, delivered like any message
  await ib.waitFor((items) => items.some((m) => m.kind === "system" && m.body.type === "recalled" && m.body.seq === ack2.seq));
  const h = await b.history(conv, { after: 0 });
  assert.equal(h.messages.find((m) => m.seq === ack2.seq).kind, "recalled");
  assert.equal(h.messages.find((m) => m.seq === ack.seq).kind, "burned");
  await assert.rejects(b.recall(conv, ack2.seq + 1), (e) => e instanceof SemotAPIError);
});

test("groups: every member gets each message once; history pages backwards", async () => {
  const { a, b, ia, ib } = await pair();
  const c = await user(server, uniq("c"));
  clients.push(c);
  const ic = new Inbox(c);
  await c.connect();
  const g = await a.createGroup("Team", [b.userId, c.userId]);
  await ib.waitFor((items) => items.some((m) => m.conv === g.conv && m.kind === "system"));
  for (let i = 0; i < 5; i++) await a.sendText(g.conv, `g${i}`, i === 0 ? { mentions: [b.userId] } : {});
  await b.sendText(g.conv, "from b");
  for (const inbox of [ia, ib, ic]) {
    const items = await inbox.waitFor((xs) => xs.filter((m) => m.conv === g.conv).length >= 7);
    const seqs = items.filter((m) => m.conv === g.conv).map((m) => m.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7]);
  }
  assert.deepEqual(ic.items.find((m) => m.seq === 2).body.mentions, [b.userId]);
  const older = await c.history(g.conv, { before: 5, limit: 2 });
  assert.deepEqual(older.messages.map((m) => m.seq), [3, 4]);
  assert.equal(older.more, true);
  const latest = await c.history(g.conv, { limit: 3 });
  assert.deepEqual(latest.messages.map((m) => m.seq), [5, 6, 7]);
});

test("a push that skips seqs is preceded by the missing messages, fetched from history", async () => {
  const { a, b, ib, conv } = await pair();
  await a.sendText(b.userId, "one");
  await ib.count(1);
  // Three messages b "missed": stored on the server, but their pushes never reached b.
  const realOnFrame = b._onFrame.bind(b);
  let swallow = 3;
  b._onFrame = (raw) => {
    const f = JSON.parse(raw);
    if (f.t === "msg" && swallow > 0) {
      swallow -= 1;
      return;
    }
    realOnFrame(raw);
  };
  for (const text of ["two", "three", "four", "five"]) await a.sendText(b.userId, text);
  await ib.count(5);
  await sleep(50);
  assert.deepEqual(ib.items.map((m) => [m.seq, m.body.text]), [[1, "one"], [2, "two"], [3, "three"], [4, "four"], [5, "five"]]);
  assert.equal(b.lastSeq[conv], 5);
});

test("a handler may await requests: an echo bot", async () => {
  const bot = await user(server, uniq("bot"));
  const human = await user(server, uniq("human"));
  clients.push(bot, human);
  bot.on("message", async (m) => {
    if (m.from !== bot.userId && m.kind === "text") {
      await bot.read(m.conv, m.seq);
      await bot.sendText(m.conv, `echo: ${m.body.text}`);
    }
  });
  const inbox = new Inbox(human);
  await bot.connect();
  await human.connect();
  for (let i = 0; i < 5; i++) await human.sendText(bot.userId, `hello ${i}`);
  const items = await inbox.waitFor((xs) => xs.filter((m) => m.from === bot.userId).length >= 5);
  assert.deepEqual(items.filter((m) => m.from === bot.userId).map((m) => m.body.text), [0, 1, 2, 3, 4].map((i) => `echo: hello ${i}`));
});

test("location and contact-card messages round-trip; a bad body is refused and leaves the outbox", async () => {
  const { a, b, ib } = await pair();
  await a.send(b.userId, "location", { lat: 31.23, lng: 121.47, title: "People's Square", address: "Shanghai" });
  await a.send(b.userId, "card", { user_id: a.userId });
  await ib.count(2);
  assert.equal(ib.items[0].kind, "location");
  assert.equal(ib.items[0].body.title, "People's Square");
  assert.deepEqual(ib.items[1].body, { user_id: a.userId });
  const failed = [];
  a.on("send_failed", (f) => failed.push(f.cid));
  await assert.rejects(a.send(b.userId, "card", { user_id: "nobody-here-xyz" }), (e) => e.code === "not_found");
  await assert.rejects(a.sendText(a.userId, "to myself"), (e) => e.code === "bad_request");
  assert.equal(a.outbox.length, 0);
  await until(() => failed.length === 2, 10000, "send_failed events");
});

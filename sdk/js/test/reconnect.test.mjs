// Reconnects against a real server: dropped connections, a server restart, the outbox,
// persisted positions, and token refresh at reconnect.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MemoryStorage, SemotClient, directConv } from "../semot.js";
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

function track(c) {
  clients.push(c);
  return c;
}

/** Drop the client's connection and keep it from reconnecting until the returned
 * function is called (its WebSocket URL points nowhere meanwhile). */
async function takeOffline(c) {
  const url = c.wsUrl;
  c.wsUrl = "ws://127.0.0.1:9/ws";
  c.dropConnection();
  await until(() => !c.connected, 15000, "disconnected");
  return () => {
    c.wsUrl = url;
    c.reconnectNow();
  };
}

test("messages sent while the connection is down arrive once, in order, after the reconnect", async () => {
  const a = track(await user(server, uniq("a")));
  const b = track(await user(server, uniq("b"), { reconnect: true, backoffBase: 300, backoffMax: 300 }));
  const ib = new Inbox(b);
  const states = [];
  b.on("state", (s) => states.push(s.state));
  await a.connect();
  await b.connect();
  await a.sendText(b.userId, "before");
  await ib.count(1);
  const online = await takeOffline(b);
  for (let i = 0; i < 20; i++) await a.sendText(b.userId, `m${i}`);
  await sleep(200);
  assert.equal(ib.items.length, 1, "nothing arrives while offline");
  online();
  await ib.count(21, 30000);
  await sleep(100);
  assert.deepEqual(ib.items.map((m) => m.body.text), ["before", ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
  assert.deepEqual(ib.items.map((m) => m.seq), Array.from({ length: 21 }, (_, i) => i + 1));
  assert.equal(b.reconnects, 1);
  assert.deepEqual(states.slice(-2), ["reconnecting", "open"]);
});

test("outbox: messages sent while offline are queued, then sent once with their cid", async () => {
  const a = track(await user(server, uniq("a"), { backoffBase: 200, backoffMax: 200 }));
  const b = track(await user(server, uniq("b")));
  const ib = new Inbox(b);
  const ia = new Inbox(a);
  await b.connect();
  // Never connected yet: sends wait in the outbox.
  const early = a.sendText(b.userId, "queued before connect");
  assert.equal(a.outbox.length, 1);
  await a.connect();
  assert.equal((await early).seq, 1);
  // Connection lost: sends made now are queued until the client is back.
  const online = await takeOffline(a);
  const outboxEvents = [];
  a.on("outbox", (o) => outboxEvents.push(o.items.length));
  const pending = [1, 2, 3].map((i) => a.sendText(b.userId, `offline ${i}`));
  const queued = a.outbox;
  assert.equal(queued.length, 3);
  await sleep(300);
  assert.equal(ib.items.length, 1, "nothing sent while offline");
  assert.equal(a.outbox.length, 3);
  online();
  const acks = await Promise.all(pending);
  assert.deepEqual(acks.map((x) => x.seq), [2, 3, 4]);
  await ib.count(4);
  await sleep(100);
  assert.deepEqual(ib.items.map((m) => m.body.text), ["queued before connect", "offline 1", "offline 2", "offline 3"]);
  assert.deepEqual(ib.items.slice(1).map((m) => m.cid), queued.map((q) => q.cid), "the queued cids were used");
  await ia.count(4);
  assert.deepEqual(ia.items.map((m) => m.seq), [1, 2, 3, 4], "own sends delivered from the acks");
  assert.equal(a.outbox.length, 0);
  assert.equal(outboxEvents.at(-1), 0);
});

test("outbox: a send in flight when the connection drops is resent with the same cid and stored once", async () => {
  const a = track(await user(server, uniq("a"), { backoffBase: 100, backoffMax: 100 }));
  const b = track(await user(server, uniq("b")));
  await a.connect();
  const conv = directConv(a.userId, b.userId);
  // Send and drop in the same tick: the frame is on its way, the ack will never come
  // on this socket; the client must resend after reconnecting.
  const sends = Array.from({ length: 10 }, (_, i) => a.sendText(b.userId, `x${i}`));
  a.dropConnection();
  const acks = await Promise.all(sends);
  assert.deepEqual(acks.map((x) => x.seq), Array.from({ length: 10 }, (_, i) => i + 1));
  const h = await a.history(conv, { after: 0, limit: 200 });
  assert.deepEqual(h.messages.map((m) => m.body.text), Array.from({ length: 10 }, (_, i) => `x${i}`));
});

test("the outbox is persisted: a restarted program sends what was queued", async () => {
  const storage = new MemoryStorage();
  const name = uniq("p");
  const b = track(await user(server, uniq("b")));
  const ib = new Inbox(b);
  await b.connect();
  const first = new SemotClient(server.base, { storage, deviceId: "laptop" });
  await first.register(name, "password123");
  await first.login(name, "password123");
  first.sendText(b.userId, "written offline").catch(() => {}); // never connected
  const session = first.session;
  await first.close(); // the promise is abandoned; the item stays in the storage
  const second = track(new SemotClient(server.base, { storage, deviceId: "laptop", session }));
  assert.equal(second.outbox.length, 1);
  const sent = new Promise((r) => second.on("sent", r));
  await second.connect();
  const ev = await sent;
  assert.equal(ev.ack.seq, 1);
  await ib.count(1);
  assert.equal(ib.items[0].body.text, "written offline");
  assert.equal(second.outbox.length, 0);
});

test("last_seq is persisted: a new client instance gets only what it has not seen", async () => {
  const storage = new MemoryStorage();
  const a = track(await user(server, uniq("a")));
  const b1 = track(await user(server, uniq("b"), { storage }));
  const ib1 = new Inbox(b1);
  await a.connect();
  await b1.connect();
  for (let i = 0; i < 3; i++) await a.sendText(b1.userId, `old${i}`);
  await ib1.count(3);
  const session = b1.session;
  await b1.close();
  for (let i = 0; i < 2; i++) await a.sendText(b1.userId, `new${i}`);
  const b2 = track(new SemotClient(server.base, { storage, session }));
  const ib2 = new Inbox(b2);
  await b2.connect();
  await ib2.count(2);
  await sleep(100);
  assert.deepEqual(ib2.items.map((m) => m.body.text), ["new0", "new1"]);
});

test("a new device starts at the read position", async () => {
  const a = track(await user(server, uniq("a")));
  const name = uniq("b");
  const b1 = track(await user(server, name));
  await a.connect();
  for (let i = 0; i < 4; i++) await a.sendText(name, `m${i}`);
  await b1.connect();
  await b1.read(directConv(a.userId, name), 2);
  await b1.close();
  const b2 = track(await user(server, name));
  const ib2 = new Inbox(b2);
  await b2.connect();
  await ib2.count(2);
  await sleep(100);
  assert.deepEqual(ib2.items.map((m) => m.body.text), ["m2", "m3"]);
});

test("an access token refused at reconnect is refreshed", async () => {
  const a = track(await user(server, uniq("a"), { backoffBase: 50, backoffMax: 50 }));
  await a.connect();
  const oldRefresh = a.refreshToken;
  a.accessToken = "garbage"; // as if it had expired while connected
  a.dropConnection();
  await until(() => a.connected && a.reconnects === 1, 15000, "reconnected");
  assert.notEqual(a.refreshToken, oldRefresh);
  assert.ok(typeof (await a.ping()) === "number");
});

test("a server restart: the client reconnects, resends its queue and catches up", async () => {
  const a = track(await user(server, uniq("a"), { backoffBase: 100, backoffMax: 400 }));
  const b = track(await user(server, uniq("b"), { backoffBase: 100, backoffMax: 400 }));
  const ib = new Inbox(b);
  const codes = [];
  b.on("state", (s) => s.code && codes.push(s.code));
  await a.connect();
  await b.connect();
  await a.sendText(b.userId, "before restart");
  await ib.count(1);
  await server.stop(); // SIGTERM: WebSockets closed with 1001
  await until(() => !a.connected && !b.connected, 15000, "both disconnected");
  const queued = a.sendText(b.userId, "while the server was down");
  await server.start();
  await queued;
  await ib.count(2, 30000);
  assert.deepEqual(ib.items.map((m) => m.body.text), ["before restart", "while the server was down"]);
  assert.equal(codes[0], 1001);
});

test("start(): when the server is down at first, the client keeps trying and connects once it is up", async (t) => {
  const own = await Server.start();
  let c = null;
  // cleaned up however the test ends: a client left running would keep reconnecting
  // (and the file from exiting) after a failed assertion
  t.after(async () => {
    if (c) await c.close();
    await own.cleanup();
  });
  c = await user(own, uniq("s"), { backoffBase: 100, backoffMax: 300 });
  await own.stop();
  const states = [];
  c.on("state", (s) => states.push(s.state));
  await c.start(); // does not throw: the server is unreachable, not refusing
  assert.equal(c.connected, false);
  await own.start();
  await until(() => c.connected, 30000, "connected after the server came up");
  // listeners hear of state changes from the client's dispatcher, a moment after
  // `connected` turns true: wait for that, then check the whole sequence
  await until(() => states.includes("open"), 10000, "the open state event");
  assert.deepEqual([states[0], states.at(-1)], ["connecting", "open"]);
  assert.ok(states.includes("reconnecting"));
});

test("logout drops the outbox and forgets the persisted session", async () => {
  const storage = new MemoryStorage();
  const c = new SemotClient(server.base, { storage, persistSession: true, deviceId: "dev1" });
  const name = uniq("lo");
  await c.register(name, "password123");
  await c.login(name, "password123");
  const pending = c.sendText("nobody-in-particular", "never sent");
  assert.ok(storage.getItem(`semot.outbox:${name}:dev1`));
  await c.logout();
  await assert.rejects(pending, (e) => e.name === "ClientClosed");
  assert.equal(storage.getItem(`semot.outbox:${name}:dev1`), null);
  assert.equal(storage.getItem("semot.session"), null);
  assert.equal(c.userId, null);
  const again = new SemotClient(server.base, { storage, persistSession: true, deviceId: "dev1" });
  assert.equal(again.userId, null);
});

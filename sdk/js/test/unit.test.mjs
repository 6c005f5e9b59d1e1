// Unit tests without a server: pure helpers, the emitter, and the connection logic
// driven through a fake WebSocket (liveness by application ping, request timeouts).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import test from "node:test";

import {
  ClientClosed,
  Emitter,
  MemoryStorage,
  RequestTimeout,
  SemotClient,
  backoffDelay,
  convFor,
  directConv,
  newCid,
  peerOf,
} from "../semot.js";
import { sleep, until } from "./helpers.mjs";

test("the re-export and the served file are the same module", async () => {
  const wrapper = await readFile(new URL("../semot.js", import.meta.url), "utf8");
  assert.match(wrapper, /export \* from "\.\.\/\.\.\/src\/semot\/web\/sdk\/semot\.js";/);
  const served = await import("../../../src/semot/web/sdk/semot.js");
  assert.equal(served.SemotClient, SemotClient);
});

test("conversation ids", () => {
  assert.equal(directConv("bob", "alice"), "d:alice:bob");
  assert.equal(directConv("alice", "bob"), "d:alice:bob");
  assert.equal(directConv("B", "a"), "d:B:a"); // byte order: uppercase first
  assert.equal(convFor("bob", "alice"), "d:alice:bob");
  assert.equal(convFor("g:grp_1", "alice"), "g:grp_1");
  assert.equal(convFor("d:alice:bob", "alice"), "d:alice:bob");
  assert.equal(peerOf("d:alice:bob", "alice"), "bob");
  assert.equal(peerOf("d:alice:bob", "bob"), "alice");
  assert.equal(peerOf("g:grp_1", "alice"), null);
});

test("cids are unique and valid", () => {
  const seen = new Set();
  for (let i = 0; i < 1000; i++) {
    const c = newCid();
    assert.match(c, /^[0-9a-f]{32}$/);
    seen.add(c);
  }
  assert.equal(seen.size, 1000);
});

test("backoff is full jitter, exponential and capped", () => {
  assert.equal(backoffDelay(1, 500, 30000, () => 0), 0);
  assert.equal(backoffDelay(1, 500, 30000, () => 0.999999) < 1000, true);
  assert.equal(Math.round(backoffDelay(3, 500, 30000, () => 1)), 4000);
  assert.equal(backoffDelay(20, 500, 30000, () => 1), 30000);
  assert.equal(backoffDelay(1000, 500, 30000, () => 1), 30000);
  const samples = Array.from({ length: 200 }, () => backoffDelay(4, 500, 30000));
  assert.ok(samples.every((d) => d >= 0 && d <= 8000));
  assert.ok(new Set(samples.map((d) => Math.floor(d / 1000))).size > 3, "delays are spread out");
});

test("emitter: on, off, once", () => {
  const e = new Emitter();
  const got = [];
  const off = e.on("x", (v) => got.push(["a", v]));
  e.once("x", (v) => got.push(["once", v]));
  for (const fn of e._listenersOf("x")) fn(1);
  off();
  for (const fn of e._listenersOf("x")) fn(2);
  assert.deepEqual(got, [["a", 1], ["once", 1]]);
  assert.equal(e.listenerCount("x"), 0);
});

// --- a fake WebSocket: the test decides what the "server" answers.
function fakeSocketClass(script) {
  const sockets = [];
  class FakeWS extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
      setTimeout(() => {
        this.readyState = 1;
        this.dispatchEvent(new Event("open"));
      }, 1);
    }
    send(data) {
      const frame = JSON.parse(data);
      this.sent.push(frame);
      const reply = script(frame, this);
      if (reply) setTimeout(() => this.push(reply), 1);
    }
    push(obj) {
      if (this.readyState !== 1) return;
      const ev = new Event("message");
      ev.data = JSON.stringify(obj);
      this.dispatchEvent(ev);
    }
    close(code = 1000) {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      setTimeout(() => {
        const ev = new Event("close");
        ev.code = code;
        this.dispatchEvent(ev);
      }, 1);
    }
  }
  return { FakeWS, sockets };
}

function okAuth(frame) {
  return { t: "res", rid: frame.rid, ok: true, data: { user_id: "alice", session_id: "s1", server_time: 1, heartbeat_s: 25, config: { max_text_chars: 5000 } } };
}

/** A client on fake sockets, closed when the test `t` ends however it ends (an
 * assertion that fails must not leave it pinging and reconnecting: the file would
 * never exit). */
function fakeClient(t, script, extra = {}) {
  const { FakeWS, sockets } = fakeSocketClass(script);
  const client = new SemotClient("http://fake.invalid", {
    WebSocket: FakeWS,
    storage: new MemoryStorage(),
    session: { access_token: "tok", refresh_token: null, user_id: "alice" },
    backoffBase: 10,
    backoffMax: 50,
    ...extra,
  });
  t.after(() => client.close());
  return { client, sockets };
}

test("auth handshake, request/reply by rid, out-of-order replies", async (t) => {
  const held = [];
  const { client, sockets } = fakeClient(t, (f, ws) => {
    if (f.t === "auth") return okAuth(f);
    if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [] } };
    if (f.t === "ping") {
      held.push(f);
      if (held.length === 2) {
        // answer the second ping first
        ws.push({ t: "res", rid: held[1].rid, ok: true, data: { server_time: 2 } });
        ws.push({ t: "res", rid: held[0].rid, ok: true, data: { server_time: 1 } });
      }
    }
    return null;
  }, { pingInterval: 0 });
  await client.connect();
  assert.equal(sockets[0].sent[0].t, "auth");
  assert.deepEqual(sockets[0].sent[0].device, { id: client.deviceId, platform: "sdk" });
  assert.equal(client.sessionId, "s1");
  assert.equal(client.serverConfig.max_text_chars, 5000);
  assert.deepEqual(await Promise.all([client.ping(), client.ping()]), [1, 2]);
  await client.close();
});

test("a request without a reply times out", async (t) => {
  const { client } = fakeClient(t, (f) => {
    if (f.t === "auth") return okAuth(f);
    if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [] } };
    return null; // never answers anything else
  }, { pingInterval: 0, requestTimeout: 100 });
  await client.connect();
  const t0 = Date.now();
  await assert.rejects(client.request("history", { conv: "d:a:b" }), RequestTimeout);
  assert.ok(Date.now() - t0 >= 90);
  await assert.rejects(client.request("ping", {}, { timeout: 20 }), RequestTimeout);
  assert.equal(client._pending.size, 0, "timed-out requests are forgotten");
  await client.close();
  await assert.rejects(client.ping(), ClientClosed);
});

test("liveness: an unanswered application ping drops the socket and reconnects", async (t) => {
  let answerPings = false;
  const states = [];
  const { client, sockets } = fakeClient(t, (f) => {
    if (f.t === "auth") return okAuth(f);
    if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [] } };
    if (f.t === "ping" && answerPings) return { t: "res", rid: f.rid, ok: true, data: { server_time: 5 } };
    return null; // a half-dead connection: the socket looks open, nothing comes back
  }, { pingInterval: 30, pingTimeout: 60 });
  client.on("state", (s) => states.push(s.state));
  await client.connect();
  await until(() => sockets.length >= 2, 10000, "a second socket");
  answerPings = true;
  await until(() => client.connected && client.reconnects >= 1, 10000, "reconnected");
  // listeners hear of state changes from the client's dispatcher, a moment later
  await until(() => states.lastIndexOf("open") > states.indexOf("reconnecting"), 10000, "the open state event");
  assert.ok(states.includes("reconnecting"), JSON.stringify(states));
  assert.equal(states.at(-1), "open");
  assert.ok(sockets[0].readyState === 3, "the dead socket was closed");
  const before = sockets.length;
  await sleep(300); // pings are answered now: no more reconnects
  assert.equal(sockets.length, before);
  await client.close();
  assert.equal(client.state, "closed");
});

test("close code 4409 (replaced) and 1008 stop reconnecting", async (t) => {
  for (const code of [4409, 1008]) {
    const { client, sockets } = fakeClient(t, (f) => {
      if (f.t === "auth") return okAuth(f);
      if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [] } };
      return null;
    }, { pingInterval: 0 });
    const states = [];
    client.on("state", (s) => states.push(s));
    await client.connect();
    sockets[0].close(code);
    await until(() => client.state === "closed", 10000, "closed");
    await sleep(100);
    assert.equal(sockets.length, 1, `no reconnect after ${code}`);
    assert.equal(states.at(-1).code, code);
    await client.close();
  }
});

test("gap in pushes is filled from history; duplicates are dropped", async (t) => {
  const stored = Array.from({ length: 6 }, (_, i) => ({
    t: "msg", conv: "d:alice:bob", seq: i + 1, mid: `m${i + 1}`, cid: `c${i + 1}`, from: "bob",
    kind: "text", body: { text: `m${i + 1}` }, ts: 1000 + i, opts: {},
  }));
  const historyCalls = [];
  const { client, sockets } = fakeClient(t, (f) => {
    if (f.t === "auth") return okAuth(f);
    if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [{ conv: "d:alice:bob", max_seq: 2, read_seq: 0, unread: 2, last: stored[1] }] } };
    if (f.t === "history") {
      historyCalls.push(f);
      const msgs = stored.filter((m) => m.seq > f.after).slice(0, f.limit);
      return { t: "res", rid: f.rid, ok: true, data: { messages: msgs, more: false } };
    }
    return null;
  }, { pingInterval: 0 });
  const got = [];
  client.on("message", (m) => got.push(m.seq));
  await client.connect(); // catch-up pages history after 0: the fake returns all six
  await until(() => got.length >= 6, 10000, "catch-up");
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  stored.push({ ...stored[0], seq: 7, mid: "m7", body: { text: "m7" } }, { ...stored[0], seq: 8, mid: "m8", body: { text: "m8" } });
  sockets[0].push(stored[5]); // duplicate
  sockets[0].push(stored[7]); // seq 8: 7 is missing
  await until(() => got.length >= 8, 10000, "gap fill");
  await sleep(50);
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(historyCalls.at(-1).after, 6);
  assert.equal(client.lastSeq["d:alice:bob"], 8);
  await client.close();
});

test("handlers run outside the read loop, one at a time, and a throwing handler does not stop delivery", async (t) => {
  const { client, sockets } = fakeClient(t, (f) => {
    if (f.t === "auth") return okAuth(f);
    if (f.t === "sync") return { t: "res", rid: f.rid, ok: true, data: { convs: [] } };
    return null;
  }, { pingInterval: 0 });
  const order = [];
  const errors = [];
  client.on("error", (e) => errors.push(e.where));
  let inLoop = false;
  client.on("message", async (m) => {
    assert.equal(inLoop, false, "not called from inside the socket callback");
    order.push(`start${m.seq}`);
    await sleep(20);
    order.push(`end${m.seq}`);
    if (m.seq === 1) throw new Error("boom");
  });
  await client.connect();
  const base = { t: "msg", conv: "d:alice:bob", mid: "m", cid: "c", from: "bob", kind: "text", body: { text: "x" }, ts: 1, opts: {} };
  inLoop = true;
  sockets[0].push({ ...base, seq: 1 });
  sockets[0].push({ ...base, seq: 2 });
  inLoop = false;
  await until(() => order.length === 4, 10000, "handlers");
  assert.deepEqual(order, ["start1", "end1", "start2", "end2"]);
  assert.deepEqual(errors, ["message listener"]);
  await client.close();
});

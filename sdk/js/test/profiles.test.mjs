// Against a real server: public profiles in batches (users()), logout revoking the login
// on the server, and the peer's read position learnt from sync (peer_read_seq).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MAX_PROFILE_IDS, MemoryStorage, SemotClient, directConv } from "../semot.js";
import { Server, freePort, uniq, until, user } from "./helpers.mjs";

let server;
const clients = [];
before(async () => {
  server = await Server.start();
});
after(async () => {
  for (const c of clients) await c.close();
  await server.cleanup();
});

test("users(): profiles of many users in as few calls as the server's limits allow", async () => {
  const named = [];
  for (let i = 0; i < 3; i++) {
    const name = uniq(`p${i}`);
    const c = new SemotClient(server.base, { storage: new MemoryStorage() });
    await c.register(name, "password123", `名字 ${i}`);
    named.push(name);
  }
  const calls = []; // the paths of the viewer's HTTP calls
  const me = await user(server, uniq("viewer"), {
    fetch: (url, init) => {
      calls.push(`${init.method} ${url.slice(server.base.length)}`);
      return fetch(url, init);
    },
  });
  clients.push(me);
  calls.length = 0;

  // duplicates, unknown and invalid ids, and more ids than one call takes
  const ghosts = Array.from({ length: 2 * MAX_PROFILE_IDS + 50 }, (_, i) => `ghost${i}`);
  const got = await me.users([named[0], named[1], named[0], "no such user", "a,b", "", null, ...ghosts, named[2]]);
  assert.deepEqual(got.map((u) => [u.user_id, u.display_name]), named.map((n, i) => [n, `名字 ${i}`]));
  assert.deepEqual(Object.keys(got[0]).sort(), ["avatar_url", "display_name", "user_id", "username"]);
  const userCalls = calls.filter((x) => x.startsWith("GET /api/v1/users?"));
  assert.equal(userCalls.length, 3, "452 ids: 200 + 200 + 52");
  for (const x of userCalls) assert.ok(x.split("=")[1].split(",").length <= MAX_PROFILE_IDS);

  // long ids: the request line stays within what the server reads (8 KiB), so a batch
  // of 200 ids of 64 characters is split further, and every call succeeds
  calls.length = 0;
  const long = Array.from({ length: MAX_PROFILE_IDS }, (_, i) => `${"x".repeat(60)}${String(i).padStart(4, "0")}`);
  const found = await me.users([...long, named[1]]);
  assert.deepEqual(found.map((u) => u.user_id), [named[1]]);
  const longCalls = calls.filter((x) => x.startsWith("GET /api/v1/users?"));
  assert.ok(longCalls.length >= 3, `split by length: ${longCalls.length} calls`);
  for (const x of longCalls) assert.ok(x.length < 4200, `request line of ${x.length}`);

  assert.deepEqual(await me.users([]), []);
  assert.equal(calls.filter((x) => x.startsWith("GET /api/v1/users?")).length, longCalls.length, "no call for nothing");
});

test("logout() revokes the login on the server: the old refresh token is refused", async () => {
  const c = await user(server, uniq("out"));
  const old = c.session;
  assert.equal(await c.logout(), true);
  assert.equal(c.userId, null);
  assert.equal(c.session, null);
  // a copy of the tokens (left in storage, or stolen) cannot be refreshed any more
  const copy = new SemotClient(server.base, { storage: new MemoryStorage(), session: old });
  await assert.rejects(copy.refresh(), (e) => e.code === "unauthorized" && e.status === 401);

  // other logins of the same user are untouched
  const name = uniq("two");
  const phone = await user(server, name);
  const laptop = await user(server, name);
  await phone.logout();
  await laptop.refresh();
  assert.equal((await laptop.me()).user_id, name);
  clients.push(laptop);
});

test("logout() with an expired access token still revokes (through one quiet refresh)", async () => {
  const c = await user(server, uniq("exp"));
  const events = [];
  c.on("session_expired", () => events.push("expired"));
  c.on("tokens", () => events.push("tokens"));
  c.setSession({ ...c.session, access_token: "expired-or-bogus" });
  const old = c.session;
  assert.equal(await c.logout(), true);
  const copy = new SemotClient(server.base, { storage: new MemoryStorage(), session: old });
  await assert.rejects(copy.refresh(), (e) => e.status === 401);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, [], "leaving emits neither tokens nor session_expired");
});

test("logout() while the server is unreachable still logs out locally", async () => {
  const storage = new MemoryStorage();
  const name = uniq("gone");
  const online = new SemotClient(server.base, { storage, persistSession: true });
  await online.register(name, "password123");
  await online.login(name, "password123");
  // the same saved session, but the server address now leads nowhere
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const offline = new SemotClient(nowhere, { storage, persistSession: true });
  assert.equal(offline.userId, name);
  const t0 = Date.now();
  assert.equal(await offline.logout({ timeout: 2000 }), false);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(offline.userId, null);
  assert.equal(new SemotClient(nowhere, { storage, persistSession: true }).userId, null, "the saved session is gone");

  // a server that does not answer at all: the timeout ends the wait
  const hanging = new SemotClient(server.base, {
    storage: new MemoryStorage(),
    session: online.session,
    fetch: () => new Promise(() => {}),
  });
  const t1 = Date.now();
  assert.equal(await hanging.logout({ timeout: 300 }), false);
  assert.ok(Date.now() - t1 < 2000);
  assert.equal(hanging.session, null);
  await online.close();
});

test("the peer's read position comes from sync: a new device shows read marks at once", async () => {
  const a = await user(server, uniq("ra"));
  const b = await user(server, uniq("rb"));
  clients.push(a, b);
  await a.connect();
  await b.connect();
  const conv = directConv(a.userId, b.userId);
  await a.sendText(b.userId, "one");
  const second = await a.sendText(b.userId, "two");
  await b.read(conv, second.seq);
  await until(() => a.peerReads[conv] === second.seq, 10000, "the live read event"); // live: evt read

  // a's new device (empty storage) learns it from its first sync, announced as a read event
  const fresh = new SemotClient(server.base, { storage: new MemoryStorage(), session: a.session });
  clients.push(fresh);
  const reads = [];
  fresh.on("event", (e) => e.evt === "read" && reads.push(e));
  await fresh.connect();
  await until(() => reads.length > 0, 10000, "the read event from sync");
  assert.deepEqual(reads, [{ t: "evt", evt: "read", conv, seq: second.seq, user: b.userId, source: "sync" }]);
  assert.equal(fresh.peerReads[conv], second.seq);

  // a sync that does not move it announces nothing again; a live read moves it on
  await fresh.sync({});
  const third = await a.sendText(b.userId, "three");
  await b.read(conv, third.seq);
  await until(() => fresh.peerReads[conv] === third.seq, 10000, "the next live read");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(reads.map((e) => [e.seq, e.source || "live"]), [[second.seq, "sync"], [third.seq, "live"]]);
  // my own reads are not the peer's
  await b.sendText(a.userId, "four");
  await fresh.read(conv, third.seq + 1);
  await until(() => b.peerReads[conv] === third.seq + 1, 10000, "b sees a's read");
  assert.equal(fresh.peerReads[conv], third.seq);
});

test("updateMe() changes the name; changePassword() ends the other logins and keeps this one", async () => {
  const name = uniq("me");
  const me = await user(server, name);
  const other = await user(server, name);
  clients.push(me, other);
  const got = await me.updateMe({ display_name: "新名字" });
  assert.equal(got.display_name, "新名字");
  assert.equal(got.avatar_url, null);
  await assert.rejects(me.updateMe({ avatar_file_id: "fnosuch" }), (e) => e.status === 404);
  await assert.rejects(me.changePassword("wrong-password", "another-password"), (e) => e.status === 403);
  await me.changePassword("password123", "another-password");
  assert.equal((await me.me()).display_name, "新名字"); // still signed in
  await assert.rejects(other.refresh(), (e) => e.status === 401); // the other login ended
});

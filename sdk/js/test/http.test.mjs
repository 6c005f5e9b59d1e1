// Accounts over HTTP against a real server: register, login, refresh, me, groups,
// and what happens when a refresh token is replayed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MemoryStorage, SemotAPIError, SemotClient } from "../semot.js";
import { Server, uniq, user } from "./helpers.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await server.cleanup();
});

test("register, login, me; errors carry the server's code and status", async () => {
  const name = uniq("alice");
  const c = new SemotClient(server.base, { storage: new MemoryStorage() });
  assert.equal(await c.register(name, "password123", "Alice A."), name);
  await assert.rejects(c.register(name, "password123"), (e) => e instanceof SemotAPIError && e.code === "conflict" && e.status === 409);
  await assert.rejects(c.login(name, "wrong-password"), (e) => e.code === "unauthorized" && e.status === 401);
  await assert.rejects(c.register("x", "short"), (e) => e.code === "bad_request" && e.status === 400);
  const tokens = await c.login(name, "password123");
  assert.equal(tokens.user_id, name);
  assert.equal(c.userId, name);
  assert.ok(c.accessToken && c.refreshToken);
  const me = await c.me();
  assert.equal(me.user_id, name);
  assert.equal(me.display_name, "Alice A.");
});

test("refresh rotates the pair; a replayed refresh token expires the session", async () => {
  const c = await user(server, uniq("rot"));
  const first = c.session;
  const events = [];
  c.on("tokens", (t) => events.push(["tokens", t.refresh_token]));
  c.on("session_expired", () => events.push(["expired"]));
  await c.refresh();
  assert.notEqual(c.refreshToken, first.refresh_token);
  assert.equal((await c.me()).user_id, c.userId);

  // Another copy of the client still holding the old (used) refresh token: the server
  // treats the replay as theft and revokes the chain.
  const stale = new SemotClient(server.base, { storage: new MemoryStorage(), session: first });
  const expired = new Promise((r) => stale.on("session_expired", r));
  await assert.rejects(stale.refresh(), (e) => e.code === "unauthorized" && e.status === 401);
  await expired;
  await assert.rejects(c.refresh(), (e) => e.code === "unauthorized");
});

test("an expired access token is refreshed once, transparently, for HTTP calls", async () => {
  const c = await user(server, uniq("exp"));
  c.setSession({ ...c.session, access_token: "not-a-valid-token" });
  const me = await c.me();
  assert.equal(me.user_id, c.userId);
  assert.notEqual(c.accessToken, "not-a-valid-token");
});

test("persistSession: tokens survive in the storage, and a pair rotated by another tab is adopted", async () => {
  const storage = new MemoryStorage();
  const name = uniq("tab");
  const tab1 = new SemotClient(server.base, { storage, persistSession: true });
  await tab1.register(name, "password123");
  await tab1.login(name, "password123");
  const tab2 = new SemotClient(server.base, { storage, persistSession: true });
  assert.equal(tab2.userId, name, "tab 2 restored the session from the storage");
  await tab1.refresh(); // rotates the pair and stores it
  await tab2.refresh(); // must not replay its old refresh token: adopts tab 1's pair
  assert.equal(tab2.refreshToken, tab1.refreshToken);
  assert.equal((await tab2.me()).user_id, name);
  assert.equal((await tab1.me()).user_id, name);
  await tab1.logout();
  assert.equal(new SemotClient(server.base, { storage, persistSession: true }).userId, null);
});

test("create a group over HTTP; unknown members are not_found", async () => {
  const a = await user(server, uniq("ga"));
  const b = await user(server, uniq("gb"));
  const g = await a.createGroup("Team", [b.userId]);
  assert.match(g.group_id, /^grp_/);
  assert.equal(g.conv, `g:${g.group_id}`);
  await assert.rejects(a.createGroup("Nope", ["no-such-user-xyz"]), (e) => e.code === "not_found" && e.status === 404);
});

test("find a group by name or id, then join or ask to join", async () => {
  const owner = await user(server, uniq("go"));
  const outsider = await user(server, uniq("gx"));
  const name = uniq("Findable");
  const g = await owner.createGroup(name, []);
  const found = await outsider.searchGroups(name.toLowerCase());
  assert.deepEqual(found.map((x) => [x.group_id, x.join, x.my_role, x.member_count]), [[g.group_id, "approval", null, 1]]);
  assert.deepEqual((await outsider.searchGroups(g.group_id)).map((x) => x.group_id), [g.group_id]);
  const asked = await outsider.joinGroup(g.group_id, "let me in");
  assert.equal(asked.joined, false);
  assert.ok(asked.request_id);
  await assert.rejects(outsider.searchGroups(" "), (e) => e.code === "bad_request" && e.status === 400);
});

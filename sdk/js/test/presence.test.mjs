// Presence of colleagues who are not friends, against a real server: subscribePresence()
// (`presence_sub`), its live pushes, and that a new list replaces the old one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MAX_PRESENCE_SUB } from "../semot.js";
import { Server, uniq, until, user } from "./helpers.mjs";

const ADMIN = ["boss", "boss-password-1"];
let server;
let admin;
const clients = [];
before(async () => {
  server = await Server.start({ admin: ADMIN });
  admin = await user(server, ADMIN[0], {}, ADMIN[1]);
});
after(async () => {
  for (const c of clients) await c.close();
  if (server) await server.cleanup();
});

async function colleague(dept, prefix) {
  const c = await user(server, uniq(prefix));
  clients.push(c);
  await admin.http("PUT", `/api/admin/v1/departments/${dept}/members/${c.userId}`, { title: "工程师" });
  return c;
}

/** The "event" pushes of one kind a client hears. */
function collect(client, evt) {
  const got = [];
  client.on("event", (e) => e.evt === evt && got.push(e));
  return got;
}

test("subscribePresence(): a colleague's status now and live; a new list replaces the old one", async () => {
  const dept = (await admin.http("POST", "/api/admin/v1/departments", { name: uniq("研发部") })).department_id;
  const a = await colleague(dept, "pa");
  const b = await colleague(dept, "pb");
  const outsider = await user(server, uniq("px")); // in no department: not a colleague
  clients.push(outsider);
  const seenByA = collect(a, "presence");
  const seenByB = collect(b, "presence");
  await a.connect();

  // the reply: the ones a may see (duplicates and invalid ids dropped, the outsider left out)
  const now = await a.subscribePresence([b.userId, outsider.userId, "not an id!", b.userId]);
  assert.deepEqual(now, [{ user: b.userId, status: "offline", text: "" }]);
  const fromB = (status) => seenByA.filter((e) => e.user === b.userId && e.status === status);

  // b comes online, then chooses "busy": a hears both, ordered by `v`
  await b.connect();
  await until(() => fromB("online").length, 15000, "b online");
  await b.http("PUT", "/api/v1/me/presence", { status: "busy", text: "in a meeting" });
  await until(() => fromB("busy").length, 15000, "b busy");
  const busy = fromB("busy")[0];
  assert.equal(busy.text, "in a meeting");
  assert.ok(Number.isInteger(busy.v) && busy.v > fromB("online")[0].v, JSON.stringify(seenByA));

  // an empty list follows no one: b's next change does not reach a. b hears its own
  // change in the same flush as a would; a's own change, settled in a later flush,
  // then comes after anything that flush sent a (one socket, in order).
  assert.deepEqual(await a.subscribePresence([]), []);
  await b.http("PUT", "/api/v1/me/presence", { status: "away", text: "back soon" });
  await until(() => seenByB.some((e) => e.user === b.userId && e.status === "away"), 15000, "b's own change");
  await a.http("PUT", "/api/v1/me/presence", { status: "busy" });
  await until(() => seenByA.some((e) => e.user === a.userId && e.status === "busy"), 15000, "a's own change");
  assert.equal(fromB("away").length, 0, "not followed any more");

  // followed again: the reply has the status now, and b leaving is pushed
  assert.deepEqual(await a.subscribePresence([b.userId]), [{ user: b.userId, status: "away", text: "back soon" }]);
  await b.close();
  await until(() => fromB("offline").length, 15000, "b offline");
  assert.equal(fromB("offline")[0].text, "", "no status text while offline");
});

test("subscribePresence() takes at most MAX_PRESENCE_SUB users", async () => {
  const a = await user(server, uniq("pm"));
  clients.push(a);
  await a.connect();
  const many = Array.from({ length: MAX_PRESENCE_SUB + 1 }, (_, i) => `u${i}`);
  await assert.rejects(a.subscribePresence(many), RangeError);
  assert.deepEqual(await a.subscribePresence([...many.slice(0, MAX_PRESENCE_SUB), "u0"]), [], "500 distinct ids are fine");
});

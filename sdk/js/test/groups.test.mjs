// The SDK's group methods of issue 11 against a real server: group info, join requests
// (listed and decided, with the pushed `requests_pending` / `request_decided` counts),
// the announcement, mute and unmute.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Server, sleep, uniq, user } from "./helpers.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await server.cleanup();
});

async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

test("join requests: counted for the owner, listed, decided; announcement and unmute", async () => {
  const owner = await user(server, uniq("go"));
  const asker = await user(server, uniq("ga"));
  const member = await user(server, uniq("gm"));
  const seen = [];
  owner.on("event", (e) => e.evt === "group" && seen.push(e.change));
  const told = [];
  asker.on("event", (e) => e.evt === "group" && told.push(e.change));
  await owner.connect();
  await asker.connect();
  const g = await owner.createGroup(uniq("Team"), [member.userId]);

  assert.equal((await asker.joinGroup(g.group_id, "hi")).joined, false);
  const pushed = await until(() => seen.find((c) => c.type === "requests_pending"));
  assert.equal(pushed.pending, 1);
  assert.equal((await owner.getGroup(g.group_id)).pending_requests, 1);
  assert.equal((await member.getGroup(g.group_id)).pending_requests, null);
  const [req] = await owner.groupRequests(g.group_id);
  assert.equal(req.user_id, asker.userId);
  assert.equal(req.message, "hi");
  await owner.decideGroupRequest(g.group_id, req.request_id, true);
  const decided = await until(() => told.find((c) => c.type === "request_decided"));
  assert.equal(decided.accepted, true);
  assert.equal(decided.pending, 0);
  assert.equal((await asker.getGroup(g.group_id)).my_role, "member");
  await assert.rejects(owner.decideGroupRequest(g.group_id, req.request_id, false), (e) => e.status === 409);

  await owner.setGroupAnnouncement(g.group_id, "Standup at 10");
  assert.equal((await member.getGroup(g.group_id)).announcement, "Standup at 10");
  await owner.muteGroupMember(g.group_id, member.userId, Date.now() + 60_000);
  assert.ok((await member.getGroup(g.group_id)).my_muted_until > Date.now());
  await owner.muteGroupMember(g.group_id, member.userId, null);
  assert.equal((await member.getGroup(g.group_id)).my_muted_until, null);
  await owner.close();
  await asker.close();
});

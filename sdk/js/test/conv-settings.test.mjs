// Per-conversation settings against a real server: setConversation() (`conv_set`), the
// `evt conv_settings` another device of the same user hears, and `sync` carrying them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Server, uniq, until, user } from "./helpers.mjs";

let server;
const clients = [];
before(async () => {
  server = await Server.start();
});
after(async () => {
  for (const c of clients) await c.close();
  if (server) await server.cleanup();
});

test("setConversation(): pin, mute and hide reach the user's other device and sync", async () => {
  const name = uniq("cs");
  const phone = await user(server, name);
  const laptop = await user(server, name);
  const bob = await user(server, uniq("csb"));
  clients.push(phone, laptop, bob);
  const heard = [];
  laptop.on("event", (e) => e.evt === "conv_settings" && heard.push(e));
  await Promise.all([phone.connect(), laptop.connect(), bob.connect()]);
  const ack = await bob.sendText(phone.userId, "hello");

  const pinned = await phone.setConversation(ack.conv, { pinned: true, dnd: true });
  assert.equal(pinned.dnd, true);
  assert.ok(Number.isInteger(pinned.pinned_at));
  await until(() => heard.length === 1, 10000, "evt conv_settings");
  assert.deepEqual(heard[0], { t: "evt", evt: "conv_settings", ...pinned });

  const hidden = await phone.setConversation(ack.conv, { hidden: true });
  assert.equal(hidden.hidden, true);
  assert.equal(hidden.hidden_seq, ack.seq);
  assert.equal(hidden.pinned_at, pinned.pinned_at); // left out: kept
  const st = (await laptop.sync({})).find((s) => s.conv === ack.conv);
  assert.equal(st.hidden, true);
  assert.equal(st.dnd, true);
  await bob.sendText(phone.userId, "again");
  const back = (await laptop.sync({})).find((s) => s.conv === ack.conv);
  assert.equal(back.hidden, false); // a new message brings it back
});

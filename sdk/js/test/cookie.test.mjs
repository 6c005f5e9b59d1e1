// refreshCookie: the refresh token lives in an HttpOnly cookie the server sets, never in
// the client's storage. Node has no cookie jar, so a small one plays the browser's part
// (honouring the cookie's Path, so the server's scoping is checked too).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MemoryStorage, SemotAPIError, SemotClient } from "../semot.js";
import { Server, uniq } from "./helpers.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await server.cleanup();
});

/** fetch with a cookie jar: stores Set-Cookie, sends cookies whose Path matches. */
function jarFetch() {
  const jar = new Map(); // name -> {value, path}
  const f = async (url, init = {}) => {
    const path = new URL(url).pathname;
    const cookies = [...jar].filter(([, c]) => path.startsWith(c.path)).map(([k, c]) => `${k}=${c.value}`);
    const headers = { ...(init.headers || {}) };
    if (cookies.length) headers.Cookie = cookies.join("; ");
    const resp = await fetch(url, { ...init, headers });
    for (const raw of resp.headers.getSetCookie()) {
      const [pair, ...attrs] = raw.split(";").map((p) => p.trim());
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const p = attrs.find((a) => a.toLowerCase().startsWith("path="));
      if (!value || attrs.some((a) => a.toLowerCase() === "max-age=0")) jar.delete(name);
      else jar.set(name, { value, path: p ? p.slice(5) : "/", attrs });
    }
    return resp;
  };
  f.jar = jar;
  return f;
}

const stored = (storage) => JSON.stringify([...storage._m]);

test("login keeps the refresh token out of the client and its storage; a reload refreshes through the cookie", async () => {
  const name = uniq("cookie");
  const storage = new MemoryStorage();
  const fetch = jarFetch();
  const opts = { storage, fetch, persistSession: true, refreshCookie: true };
  const tab = new SemotClient(server.base, opts);
  await tab.register(name, "password123");
  const reply = await tab.login(name, "password123");
  assert.equal(reply.refresh_token, undefined, "not in the reply");
  assert.equal(tab.refreshToken, null);
  assert.ok(tab.accessToken);
  const cookie = fetch.jar.get("semot_refresh");
  assert.ok(cookie, "the server set the cookie");
  assert.equal(cookie.path, "/api/v1/auth");
  assert.ok(cookie.attrs.some((a) => a.toLowerCase() === "httponly"));
  assert.ok(!stored(storage).includes(cookie.value) && !stored(storage).includes(tab.accessToken), "no token in the storage");

  // a reload: a new client on the same storage and cookies, with no token in memory
  const reloaded = new SemotClient(server.base, opts);
  assert.equal(reloaded.userId, name);
  assert.equal(reloaded.accessToken, null);
  assert.equal((await reloaded.me()).user_id, name); // 401 -> refresh via the cookie -> retried
  assert.notEqual(fetch.jar.get("semot_refresh").value, cookie.value, "the cookie rotated");

  // logout ends the login and clears the cookie; the old cookie value is refused
  const last = fetch.jar.get("semot_refresh").value;
  assert.equal(await reloaded.logout(), true);
  assert.equal(fetch.jar.has("semot_refresh"), false);
  assert.equal(new SemotClient(server.base, opts).userId, null, "the storage forgot the user");
  const thief = new SemotClient(server.base, { storage: new MemoryStorage(), session: { user_id: name, access_token: "x", refresh_token: last } });
  await assert.rejects(thief.refresh(), (e) => e instanceof SemotAPIError && e.status === 401);
});

test("a session saved by an older version (tokens in the storage) moves to the cookie", async () => {
  const name = uniq("legacy");
  const plain = new SemotClient(server.base, { storage: new MemoryStorage() });
  await plain.register(name, "password123");
  await plain.login(name, "password123");
  const storage = new MemoryStorage();
  storage.setItem("semot.session", JSON.stringify({ ...plain.session }));
  const fetch = jarFetch();
  const c = new SemotClient(server.base, { storage, fetch, persistSession: true, refreshCookie: true });
  assert.equal(c.userId, name);
  assert.ok(!stored(storage).includes(plain.refreshToken), "the refresh token left the storage at once");
  await c.refresh(); // the token in memory is traded for the cookie
  assert.equal(c.refreshToken, null);
  assert.ok(fetch.jar.has("semot_refresh"));
  await c.refresh(); // and from now on the cookie alone refreshes
  assert.equal((await c.me()).user_id, name);
  await c.logout();
});

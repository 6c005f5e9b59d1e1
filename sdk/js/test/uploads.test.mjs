// Resumable uploads against a real server (tus-js-client's bundle with the SDK's fetch
// stack under Node): progress, exact bytes (sha256), resume from the server's offset in
// a new client that shares the storage (a page reload / process restart), retries
// across a server restart, abort deleting the upload, and sendFile().
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { MemoryStorage, SemotClient, UploadAborted, directConv } from "../semot.js";
import { Inbox, Server, uniq, until, user } from "./helpers.mjs";
import { StorageUrlStorage, fingerprintOf } from "../../../src/semot/web/sdk/uploads.js";

let server;
const clients = [];
before(async () => {
  server = await Server.start();
});
after(async () => {
  for (const c of clients) await c.close();
  await server.cleanup();
});

const MiB = 1024 * 1024;
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

async function head(client, url) {
  const r = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${client.accessToken}` } });
  return { status: r.status, offset: Number(r.headers.get("Upload-Offset")) };
}

test("upload a Blob with progress: the info and the downloaded bytes match", async () => {
  const a = await user(server, uniq("up"));
  clients.push(a);
  const bytes = randomBytes(5 * MiB + 123);
  const seen = [];
  const up = a.upload(new Blob([bytes], { type: "application/octet-stream" }), {
    name: "data.bin",
    chunkSize: MiB,
    onProgress: (sent, total) => seen.push([sent, total]),
  });
  const info = await up.promise;
  assert.equal(info.name, "data.bin");
  assert.equal(info.size, bytes.length);
  assert.equal(info.sha256, sha256(bytes));
  assert.equal(up.state, "done");
  assert.equal(up.fileId, info.file_id);
  assert.ok(seen.length >= 5, `progress reported per chunk: ${seen.length}`);
  assert.deepEqual(seen.at(-1), [bytes.length, bytes.length]);
  const got = Buffer.from(await (await a.downloadFile(info.file_id)).arrayBuffer());
  assert.equal(sha256(got), sha256(bytes));
  assert.equal(await a.uploadFile(new Blob([Buffer.from("hello")]), { name: "h.txt" }).then((i) => i.size), 5);
});

test("a paused upload resumes in a new client sharing the storage, from the server's offset", async () => {
  const name = uniq("res");
  const a = await user(server, name);
  const storage = new MemoryStorage();
  const first = new SemotClient(server.base, { storage, session: a.session });
  clients.push(a, first);
  const bytes = randomBytes(8 * MiB);
  const file = new File([bytes], "big.bin", { type: "application/octet-stream", lastModified: 1700000000000 });
  const up = first.upload(file, { chunkSize: MiB });
  await until(() => up.sent >= 3 * MiB, 20000, "3 MiB sent");
  await up.pause();
  assert.equal(up.state, "paused");
  const { offset } = await head(a, up.url);
  assert.ok(offset >= 2 * MiB && offset < bytes.length, `offset ${offset}`);
  // "reload": a new client, the same storage and login
  const second = new SemotClient(server.base, { storage, session: a.session });
  clients.push(second);
  const again = second.upload(file, { chunkSize: MiB });
  const info = await again.promise;
  assert.equal(again.fileId, up.fileId, "the same upload, not a new one");
  assert.ok(again.resumedFrom >= offset, `resumed from ${again.resumedFrom}`);
  assert.equal(info.sha256, sha256(bytes));
  // a different file of the same name and size is a new upload
  const other = new File([randomBytes(8 * MiB)], "big.bin", { type: "application/octet-stream", lastModified: 1700000000000 });
  const third = second.upload(other, { chunkSize: 4 * MiB });
  await third.promise;
  assert.notEqual(third.fileId, up.fileId);
  assert.equal(third.resumedFrom, null);
});

test("an upload survives a server restart: it retries and continues", async () => {
  const a = await user(server, uniq("rs"));
  clients.push(a);
  const bytes = randomBytes(12 * MiB);
  const up = a.upload(new Blob([bytes]), { name: "r.bin", chunkSize: MiB, retryDelays: [200, 500, 1000, 1000, 2000, 2000, 4000, 4000] });
  await until(() => up.sent >= 2 * MiB, 20000, "2 MiB sent");
  await server.kill();
  await server.start();
  const info = await up.promise;
  assert.equal(info.sha256, sha256(bytes));
  assert.equal(info.size, bytes.length);
});

test("an access token that stops working mid-upload is refreshed and the upload goes on", async () => {
  const a = await user(server, uniq("tk"));
  clients.push(a);
  const bytes = randomBytes(6 * MiB);
  const up = a.upload(new Blob([bytes]), { name: "t.bin", chunkSize: MiB });
  await until(() => up.sent >= MiB, 20000, "1 MiB sent");
  const refreshToken = a.refreshToken;
  a.accessToken = "not-a-valid-token";
  const info = await up.promise;
  assert.equal(info.sha256, sha256(bytes));
  assert.notEqual(a.refreshToken, refreshToken, "refreshed (the pair rotates)");
});

test("abort() deletes the partial upload and rejects the promise", async () => {
  const a = await user(server, uniq("ab"));
  clients.push(a);
  const up = a.upload(new Blob([randomBytes(6 * MiB)]), { name: "x.bin", chunkSize: MiB });
  await until(() => up.sent >= MiB, 20000, "1 MiB sent");
  await up.abort();
  await assert.rejects(up.promise, UploadAborted);
  assert.equal(up.state, "aborted");
  assert.ok([404, 410].includes((await head(a, up.url)).status));
});

test("sendFile sends an uploaded file as a message the peer receives", async (t) => {
  const a = await user(server, uniq("sa"));
  const b = await user(server, uniq("sb"));
  clients.push(a, b);
  const ib = new Inbox(b);
  await a.connect();
  await b.connect();
  const info = await a.uploadFile(new Blob([Buffer.from("%PDF-1.4\nhello\n")]), { name: "doc.pdf" });
  let ack;
  try {
    ack = await a.sendFile(b.userId, "file", info.file_id);
  } catch (error) {
    if (error.code === "bad_request" && /kind/.test(error.message)) {
      t.skip("the server does not take file messages yet");
      return;
    }
    throw error;
  }
  assert.equal(ack.conv, directConv(a.userId, b.userId));
  await ib.count(1);
  const m = ib.items[0];
  assert.equal(m.kind, "file");
  assert.equal(m.body.file_id, info.file_id);
  assert.equal(m.body.name, "doc.pdf");
  assert.equal(m.body.size, info.size);
  const got = Buffer.from(await (await b.downloadFile(info.file_id)).arrayBuffer());
  assert.equal(got.toString(), "%PDF-1.4\nhello\n");
  await assert.rejects(a.sendFile(b.userId, "sticker", info.file_id), /not a file kind/);
});

test("fingerprints tell apart same-sized blobs without names; the URL storage keeps them per fingerprint", async () => {
  const ep = "http://h/api/v1/files/";
  const one = new Blob([randomBytes(1000)], { type: "image/png" });
  const two = new Blob([randomBytes(1000)], { type: "image/png" });
  assert.notEqual(await fingerprintOf(one, ep, "u"), await fingerprintOf(two, ep, "u"));
  assert.equal(await fingerprintOf(one, ep, "u"), await fingerprintOf(one, ep, "u"));
  assert.notEqual(await fingerprintOf(one, ep, "u"), await fingerprintOf(one, ep, "v"), "per user");
  const st = new StorageUrlStorage(new MemoryStorage(), "p:");
  const upload = { size: 1000, metadata: {}, creationTime: new Date().toString(), uploadUrl: "http://h/api/v1/files/f1" };
  const key = await st.addUpload("fp1", upload);
  await st.addUpload("fp1", { ...upload, uploadUrl: "http://h/api/v1/files/f2" });
  const old = { ...upload, creationTime: new Date(Date.now() - 2 * 86400000).toString(), uploadUrl: "http://h/x" };
  await st.addUpload("fp2", old);
  assert.deepEqual((await st.findUploadsByFingerprint("fp1")).map((u) => u.uploadUrl), ["http://h/api/v1/files/f2", "http://h/api/v1/files/f1"]);
  assert.deepEqual(await st.findUploadsByFingerprint("fp2"), [], "expired uploads are not offered");
  await st.removeUpload(key);
  assert.deepEqual((await st.findUploadsByFingerprint("fp1")).map((u) => u.uploadUrl), ["http://h/api/v1/files/f2"]);
});

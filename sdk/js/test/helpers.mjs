// Test helpers: a real `semot serve` process on a free port with a temporary data dir.
// The Python interpreter comes from SEMOT_PYTHON (default python3); it must have the
// semot package installed (e.g. SEMOT_PYTHON=.venv/bin/python).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { MemoryStorage, SemotAPIError, SemotClient } from "../semot.js";

export const PYTHON = process.env.SEMOT_PYTHON || "python3";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.log = "";
  }

  /** A new server; `admin: [username, password]` makes that administrator first
   * (`semot create-admin`), for tests that need the admin API. */
  static async start({ admin = null } = {}) {
    const dir = await mkdtemp(join(tmpdir(), "semot-js-"));
    const srv = new Server(dir, await freePort());
    try {
      if (admin) await srv.createAdmin(...admin);
      await srv.start();
    } catch (error) {
      await srv.cleanup();
      throw error;
    }
    return srv;
  }

  get env() {
    // abuse limits off, as for every test suite (contract §5), unless the caller's environment says otherwise
    return { SEMOT_ABUSE_LIMITS: "false", ...process.env, SEMOT_LOG_LEVEL: "WARNING" };
  }

  async createAdmin(username, password) {
    const args = ["-m", "semot", "create-admin", username, "--password", password, "--data-dir", join(this.dir, "data")];
    const proc = spawn(PYTHON, args, { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const code = await new Promise((resolve) => proc.once("exit", resolve));
    if (code !== 0) throw new Error(`create-admin exited ${code}: ${out.slice(-2000)}`);
  }

  // generous: a loaded machine may take a while to start Python
  async start(timeoutMs = 60000) {
    this.proc = spawn(PYTHON, ["-m", "semot", "serve", "--port", String(this.port), "--data-dir", join(this.dir, "data")], {
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise((resolve) => this.proc.once("exit", (code) => resolve(code)));
    this.exited = exited;
    this.proc.stdout.on("data", (d) => (this.log += d));
    this.proc.stderr.on("data", (d) => (this.log += d));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`server exited ${this.proc.exitCode}: ${this.log.slice(-2000)}`);
      try {
        const r = await fetch(this.base + "/healthz");
        if (r.ok) return this;
      } catch {
        /* not up yet */
      }
      await sleep(50);
    }
    this.proc.kill("SIGKILL");
    throw new Error(`server did not start: ${this.log.slice(-2000)}`);
  }

  /** SIGTERM (graceful: closes WebSockets with 1001) and wait for the exit. */
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      await this.exited;
    }
  }

  async kill() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGKILL");
      await this.exited;
    }
  }

  async cleanup() {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

let counter = 0;
export function uniq(prefix) {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e4)}`;
}

/** A registered, logged-in client (not connected). Options go to SemotClient. */
export async function user(server, name, options = {}, password = "password123") {
  const c = new SemotClient(server.base, { storage: new MemoryStorage(), backoffBase: 50, backoffMax: 500, ...options });
  try {
    await c.register(name, password);
  } catch (e) {
    if (!(e instanceof SemotAPIError && e.code === "conflict")) throw e;
  }
  await c.login(name, password);
  return c;
}

/** Collects "message" events; wait for a count or a predicate. */
export class Inbox {
  constructor(client) {
    this.items = [];
    this.waiters = [];
    client.on("message", (m) => {
      this.items.push(m);
      for (const w of [...this.waiters]) w();
    });
  }
  async waitFor(pred, timeoutMs = 10000, what = "messages") {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.items)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.items.map((m) => [m.conv, m.seq, m.body]))}`);
      await new Promise((r) => {
        let done = false;
        const w = () => {
          if (done) return;
          done = true;
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          r();
        };
        this.waiters.push(w);
        setTimeout(w, 100);
      });
    }
    return this.items;
  }
  count(n, timeoutMs) {
    return this.waitFor((items) => items.length >= n, timeoutMs, `${n} messages`);
  }
}

/** Wait until fn() is truthy. */
export async function until(fn, timeoutMs = 10000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

"""The web client with a long history (issue 11, defect 2): how long a pushed message takes
to appear, and how smoothly the log scrolls, after scrolling back through 10,000 messages.

A real server (a temp data dir, rate limits raised) is filled with N messages from bob to
alice through the Python SDK. Debian's Chromium (Playwright, headless) signs in as alice,
opens the chat and scrolls to the top until the whole history is loaded. Then:

- push latency: bob sends P messages, one every 150 ms; in the page, an init script wraps
  the WebSocket's message listeners and marks when each `msg` frame arrives
  (`performance.now()`), a MutationObserver on the log marks when its row enters the
  DOM, and a requestAnimationFrame after that marks the next frame (the paint).
- scrolling: for a few seconds, every animation frame moves the log up by 40 px (2,400
  px/s, through rows never rendered before) and the frames are counted; then the same
  back down.
- the number of elements in the log.
- CPU per frame: between the two, 3 s further up (again through rows never rendered) and
  3 s down under a Chromium trace; the page's main thread's CPU time (thread time: a busy
  machine stretches wall time and drops frames, not this) per frame, and its largest
  single task (a frame that renders new rows). fps on this shared machine swing with its
  load; these figures show the work itself.

The same runs at the start (only the first page loaded) for comparison. `--legacy`
serves the chat pane of the last commit (`git show HEAD:.../chat.js`, the list that
renders every row) instead of the virtual list, to measure what the issue measured.

    /work/venv/bin/python benchmarks/web_scroll.py                  # 10,000 messages, 50 pushes
    /work/venv/bin/python benchmarks/web_scroll.py --messages 2000 --legacy
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline"]
PASSWORD = "password123"

# Marks the arrival of every pushed message frame, before the SDK sees it.
INIT = """
(() => {
  window.__pushAt = {};
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, fn, opts) {
    if (type === "message") {
      const inner = fn;
      fn = function (ev) {
        if (typeof ev.data === "string" && ev.data.includes('"t":"msg"')) {
          try { const f = JSON.parse(ev.data); if (f.t === "msg") window.__pushAt[f.seq] = performance.now(); } catch (e) {}
        }
        return inner.call(this, ev);
      };
    }
    return add.call(this, type, fn, opts);
  };
})();
"""

# Marks when each message row enters the log, and the frame after.
OBSERVE = """
() => {
  window.__domAt = {}; window.__paintAt = {};
  const log = document.querySelector("[data-testid=messages]");
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      const rows = n.matches("[data-testid=message]") ? [n] : n.querySelectorAll("[data-testid=message]");
      for (const el of rows) {
        const seq = el.dataset.seq;
        if (seq && !(seq in window.__domAt)) {
          window.__domAt[seq] = now;
          requestAnimationFrame(() => { window.__paintAt[seq] = performance.now(); });
        }
      }
    }
  }).observe(log, { childList: true, subtree: true });
}
"""

SCROLL = """
async ([ms, step]) => {
  const el = document.querySelector("[data-testid=messages]");
  const gaps = [];
  let last = performance.now();
  const t0 = last;
  await new Promise((done) => {
    const frame = (now) => {
      gaps.push(now - last); last = now;
      el.scrollTop += step;
      if (now - t0 < ms) requestAnimationFrame(frame); else done();
    };
    requestAnimationFrame(frame);
  });
  return { frames: gaps.length, seconds: (last - t0) / 1000, gaps };
}
"""

COUNT = """() => ({ elements: document.querySelectorAll("[data-testid=messages] *").length,
                    messages: document.querySelectorAll("[data-testid=messages] [data-testid=message]").length })"""


def http_json(method: str, url: str, body: Any) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def in_thread(coro_fn: Any) -> None:
    """Run an asyncio coroutine in a thread of its own (Playwright's sync API owns this one)."""
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=main)
    th.start()
    th.join()
    if errors:
        raise errors[0]


def seed(base: str, sender: str, to: str, n: int) -> None:
    from semot.client import SemotClient

    async def run() -> None:
        async with SemotClient(base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            for lo in range(0, n, 200):
                await asyncio.gather(*(c.send_text(to, f"history message {i}: " + "lorem ipsum " * (i % 7))
                                       for i in range(lo, min(n, lo + 200))))

    in_thread(run)


def pushes(base: str, sender: str, to: str, n: int, gap_s: float) -> threading.Thread:
    from semot.client import SemotClient

    async def run() -> None:
        async with SemotClient(base) as c:
            await c.login(sender, PASSWORD)
            await c.connect()
            for i in range(n):
                await c.send_text(to, f"live push {i}")
                await asyncio.sleep(gap_s)

    th = threading.Thread(target=lambda: asyncio.run(run()))
    th.start()
    return th


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def measure_pushes(page: Any, base: str, bob: str, alice: str, n: int, first_seq: int) -> dict[str, float]:
    page.evaluate("() => { window.__domAt = {}; window.__paintAt = {}; }")
    th = pushes(base, bob, alice, n, 0.15)
    th.join()
    last = first_seq + n - 1
    page.wait_for_function(f"() => '{last}' in window.__paintAt", timeout=60_000)
    got = page.evaluate("() => [window.__pushAt, window.__domAt, window.__paintAt]")
    push_at, dom_at, paint_at = got
    dom = [dom_at[str(s)] - push_at[str(s)] for s in range(first_seq, last + 1) if str(s) in dom_at and str(s) in push_at]
    paint = [paint_at[str(s)] - push_at[str(s)] for s in range(first_seq, last + 1) if str(s) in paint_at and str(s) in push_at]
    return {"n": len(dom), "dom_p50": statistics.median(dom), "dom_p95": pct(dom, 0.95), "dom_max": max(dom),
            "paint_p50": statistics.median(paint), "paint_p95": pct(paint, 0.95)}


def main_thread_tasks(trace: bytes) -> list[float]:
    """CPU ms (thread time) of each top-level task on the page's main thread in a trace."""
    events = json.loads(trace)["traceEvents"]
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    per: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for e in events:
        if e.get("ph") == "X" and "tdur" in e and (e["pid"], e["tid"]) in mains:
            per.setdefault((e["pid"], e["tid"]), []).append(e)
    if not per:
        return []
    busiest = max(per, key=lambda k: len(per[k]))  # the page's renderer
    xs = sorted(per[busiest], key=lambda e: (e["ts"], -e["dur"]))
    tasks: list[float] = []
    end = -1.0
    for e in xs:  # nested events lie inside their task's span
        if e["ts"] >= end:
            tasks.append(e["tdur"] / 1000)
            end = e["ts"] + e["dur"]
    return tasks


def measure_scroll(page: Any, browser: Any, seconds: float) -> dict[str, float]:
    """Up (fps), up further (traced: rows never rendered before either), down (traced), down (fps)."""
    out: dict[str, float] = {}
    for name, step, traced in (("up", -40, False), ("up", -40, True), ("down", 40, True), ("down", 40, False)):
        if traced:  # tracing costs a little: these runs give the CPU figures, not the fps
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            r = page.evaluate(SCROLL, [seconds * 1000, step])
            tasks = main_thread_tasks(browser.stop_tracing())
            out[f"cpu_{name}"] = sum(tasks) / r["frames"]
            out[f"task_max_{name}"] = max(tasks, default=float("nan"))
            continue
        r = page.evaluate(SCROLL, [seconds * 1000, step])
        gaps = r["gaps"][1:]
        out[f"fps_{name}"] = r["frames"] / r["seconds"]
        out[f"p95_{name}"] = pct(gaps, 0.95)
        out[f"long_{name}"] = sum(1 for g in gaps if g > 25)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--pushes", type=int, default=50)
    ap.add_argument("--scroll-seconds", type=float, default=3.0)
    ap.add_argument("--legacy", action="store_true", help="serve HEAD's chat.js (the list without virtualisation)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="semot-webscroll-"))
    env = {"SEMOT_RATE_PER_S": "1000000", "SEMOT_RATE_BURST": "1000000"}
    srv = ServerProcess(tmp / "data", env=env).start()
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        alice, bob = "alice", "bob"
        for u in (alice, bob):
            http_json("POST", srv.base + "/api/v1/auth/register", {"username": u, "password": PASSWORD})
        t0 = time.monotonic()
        seed(srv.base, bob, alice, args.messages)
        print(f"seeded {args.messages} messages in {time.monotonic() - t0:.1f} s", flush=True)
        conv = f"d:{alice}:{bob}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
            ctx.add_init_script(INIT)
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            if args.legacy:
                old = subprocess.run(["git", "show", "HEAD:src/semot/web/app/components/chat.js"], cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout
                page.route("**/web/app/components/chat.js",
                           lambda route: route.fulfill(status=200, content_type="text/javascript", body=old))
            page.goto(srv.base + "/")
            page.fill("[data-testid=username]", alice)
            page.fill("[data-testid=password]", PASSWORD)
            page.click("[data-testid=submit]")
            page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
            page.click(f"[data-testid=conv-item][data-conv='{conv}']")
            page.wait_for_selector(f"[data-testid=message][data-seq='{args.messages}']")
            page.evaluate(OBSERVE)
            next_seq = args.messages + 1

            def run(label: str) -> None:
                nonlocal next_seq
                page.eval_on_selector("[data-testid=messages]", "el => el.scrollTop = el.scrollHeight")
                page.wait_for_timeout(300)
                r: dict[str, Any] = {"loaded": page.evaluate(f"() => window.__semot.state.convs['{conv}'].messages.length"),
                                     "load": os.getloadavg()[0]}  # this shared machine's load: fps swing with it
                r.update(measure_pushes(page, srv.base, bob, alice, args.pushes, next_seq))
                next_seq += args.pushes
                r.update(page.evaluate(COUNT))
                page.eval_on_selector("[data-testid=messages]", "el => el.scrollTop = el.scrollHeight")
                page.wait_for_timeout(200)
                r.update(measure_scroll(page, browser, args.scroll_seconds))
                rows.append((label, r))
                print(label, json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()}), flush=True)

            run("first page only")
            t1 = time.monotonic()
            oldest = f"() => window.__semot.state.convs['{conv}'].messages[0].seq"
            while page.evaluate(oldest) > 1:
                first = page.evaluate(oldest)
                page.eval_on_selector("[data-testid=messages]", "el => el.scrollTop = 0")
                page.wait_for_function(f"() => ({oldest})() < {first}")
            scrolled = time.monotonic() - t1
            print(f"scrolled back through {args.messages} messages in {scrolled:.1f} s", flush=True)
            run(f"after scrolling back through {args.messages}")
            browser.close()
    finally:
        srv.kill()

    print()
    print(f"web client, {'legacy list (HEAD)' if args.legacy else 'virtual list'}; {args.pushes} pushes, 1280x800, headless Chromium")
    head = (f"{'':<36} {'loaded':>7} {'DOM elems':>9} {'msg rows':>8} {'push->DOM p50/p95/max ms':>25} {'->frame p50/p95':>16} "
            f"{'fps up/down':>12} {'long frames':>11} {'main CPU ms/frame up/down':>26} {'max task up/down':>17} {'load':>5}")
    print(head)
    for label, r in rows:
        print(f"{label:<36} {r['loaded']:>7} {r['elements']:>9} {r['messages']:>8} "
              f"{r['dom_p50']:>9.1f} /{r['dom_p95']:>6.1f} /{r['dom_max']:>6.1f} {r['paint_p50']:>7.1f} /{r['paint_p95']:>6.1f} "
              f"{r['fps_up']:>5.1f} /{r['fps_down']:>5.1f} {r['long_up'] + r['long_down']:>11} "
              f"{r['cpu_up']:>19.2f} /{r['cpu_down']:>5.2f} {r['task_max_up']:>9.1f} /{r['task_max_down']:>5.1f} {r['load']:>5.1f}")


if __name__ == "__main__":
    main()

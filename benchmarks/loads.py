"""The four loads of issue 2. Each takes a running `Server` and the users' tokens and
returns a dict of figures. They run in the harness process (pinned to the other CPU)
on uvloop, with the raw client of wsclient.py.

direct, group and memory also take a `Wire` (wire.py) instead of the tokens: the same
load, pacing and accounting then drive another protocol (XMPP to ejabberd, issue 9).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Sequence
from typing import Any

import orjson

from server import Server, self_cpu_s, user_id
from wire import Wire, as_wire
from wsclient import WSClient, client_frame, connect_many

_M = ord("m")  # payload[6] of b'{"t":"msg"...'
_R = ord("r")  # payload[6] of b'{"t":"res"...'
_dumps = orjson.dumps
_loads = orjson.loads


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan when empty)."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(-(-p * len(values) // 100)) - 1))
    return values[k]


async def batch_stats(server: Server) -> tuple[float, float]:
    """(commits, messages committed) so far, from the server's semot_write_batch_size histogram."""
    m = await asyncio.to_thread(server.metrics)
    return m.get("semot_write_batch_size_count", 0.0), m.get("semot_write_batch_size_sum", 0.0)


def _batch_fields(b0: tuple[float, float], b1: tuple[float, float]) -> dict[str, float]:
    commits = b1[0] - b0[0]
    return {"commits": commits, "mean_batch": (b1[1] - b0[1]) / commits if commits else float("nan")}


def _pad_text(n: int) -> str:
    return ("semot benchmark payload " * (n // 24 + 1))[:n]


# --- 1. direct messages, paced open loop -------------------------------------------------


async def direct(
    server: Any, tokens: list[str] | Wire, *, pairs: int = 100, rate: float = 1000.0, duration: float = 20.0,
    text_len: int = 60, cid_prefix: str = "c",
) -> dict[str, Any]:
    """200 users in 100 pairs; `rate` msgs/s in total, evenly spread; latency at the receiver.

    `cid_prefix`: another one for each run against the same server (a resent cid is
    answered with the stored message and pushed to nobody). Over a wire without acks
    (plain XMPP) a message counts as confirmed when it is delivered."""
    wire = as_wire(tokens)
    n = 2 * pairs
    clients = await wire.connect(server.port, range(n))
    partner = [wire.address(i ^ 1) for i in range(n)]
    pad = _pad_text(text_len - 20)
    st: dict[str, Any] = {"acks": 0, "errors": 0, "recv": 0, "lat": [], "ack": [], "err_sample": None}
    lat = st["lat"]
    ack = st["ack"]
    for c in clients:
        c.state = {}  # rid -> send time (ns)

    msg_text = wire.msg_text

    def on_msg(c: Any, payload: Any) -> None:
        lat.append(time.time_ns() - int(msg_text(payload)[:19]))
        st["recv"] += 1

    def on_ack(c: Any, rid: int, ok: bool, detail: Any) -> None:
        now = time.time_ns()
        t0 = c.state.pop(rid, None)
        if ok:
            st["acks"] += 1
            if t0 is not None:
                ack.append(now - t0)
        else:
            st["errors"] += 1
            st["err_sample"] = detail

    for c in clients:
        wire.listen(c, on_msg, on_ack)

    rids = [1] * n
    wsend = wire.send

    def send(i: int) -> None:
        c = clients[i]
        rid = rids[i] = rids[i] + 1
        now = time.time_ns()
        c.state[rid] = now
        wsend(c, rid, f"{cid_prefix}{rid}", partner[i], f"{now:019d} {pad}")

    async def drain(expected: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if wire.acks:
                if st["acks"] + st["errors"] >= expected and st["recv"] >= st["acks"]:
                    return
            elif st["recv"] >= expected:
                return
            await asyncio.sleep(0.005)

    # warm-up: every user sends once (creates the 100 direct conversations)
    for i in range(n):
        send(i)
    await drain(n, 10)
    warm_ok = st["acks"] if wire.acks else st["recv"]
    st.update(acks=0, errors=0, recv=0)
    lat.clear()
    ack.clear()
    await asyncio.sleep(0.3)
    gc.collect()
    gc.freeze()

    total = int(rate * duration)
    b0 = await batch_stats(server)
    split0 = server.cpu_split_s()
    cs0 = server.ctx_switches()
    db0 = await asyncio.to_thread(server.db_cpu_s)
    cpu0, me0 = server.cpu_s(), self_cpu_s()
    t_start = time.perf_counter()
    k = 0
    late_max = 0.0
    while k < total:
        now = time.perf_counter()
        due = min(total, int((now - t_start) * rate) + 1)
        if due - k > 1:
            late_max = max(late_max, (due - k - 1) / rate)
        while k < due:
            send(k % n)
            k += 1
        delay = t_start + k / rate - time.perf_counter()
        await asyncio.sleep(delay if delay > 0 else 0)
    t_sent = time.perf_counter()
    me_sent = self_cpu_s()
    await drain(total, 5)
    t_end = time.perf_counter()
    cpu1 = server.cpu_s()
    db1 = await asyncio.to_thread(server.db_cpu_s)
    split1 = server.cpu_split_s()
    cs1 = server.ctx_switches()
    b1 = await batch_stats(server)
    for c in clients:
        c.close()
    lat.sort()
    ack.sort()
    acked = st["acks"] if wire.acks else st["recv"]
    return {
        "wire": wire.name,
        "acks": wire.acks,
        "users": n,
        "warmup_acked": warm_ok,
        "offered_rate": rate,
        "duration_s": duration,
        "sent": total,
        "achieved_send_rate": total / (t_sent - t_start),
        "acked": acked,
        "errors": st["errors"],
        "error_sample": st["err_sample"],
        "received": st["recv"],
        "delivered_ratio": st["recv"] / total,
        "latency_p50_ms": pct(lat, 50) / 1e6,
        "latency_p99_ms": pct(lat, 99) / 1e6,
        "latency_max_ms": (lat[-1] / 1e6) if lat else float("nan"),
        "ack_p50_ms": pct(ack, 50) / 1e6,
        "ack_p99_ms": pct(ack, 99) / 1e6,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_ms_per_msg": (cpu1 - cpu0) * 1e3 / max(1, acked),
        "server_cpu_util": (cpu1 - cpu0) / (t_end - t_start),
        "db_cpu_ms_per_msg": (db1 - db0) * 1e3 / max(1, acked),
        "server_user_sys_ms_per_msg": [(split1[k] - split0[k]) * 1e3 / max(1, acked) for k in (0, 1)],
        "server_ctx_switches_per_msg": (cs1 - cs0) / max(1, acked),
        "loadgen_cpu_util": (me_sent - me0) / (t_sent - t_start),
        "pacing_worst_lag_ms": late_max * 1e3,
        "drain_s": t_end - t_sent,
        **_batch_fields(b0, b1),
    }


# --- 2. fan-out to a 500-member group ---------------------------------------------------


async def group(
    server: Any,
    tokens: list[str] | Wire,
    *,
    members: int = 500,
    online: int | None = None,
    reps: int = 20,
    warmup: int = 3,
    gap_s: float = 0.1,
) -> dict[str, Any]:
    """One member of a `members` group sends while `online` of them (default: all) are
    connected; time until the last connected member has it (over XMPP: a MUC room that
    all of them join; the room's reflection of the message to its sender is the ack)."""
    wire = as_wire(tokens)
    conv = await wire.create_group(server, members)
    clients = await wire.connect(server.port, range(online or members))
    t_join = time.perf_counter()
    await wire.join_group(conv, clients)
    join_s = time.perf_counter() - t_join
    sender, receivers = clients[0], clients[1:]
    expected = len(receivers)
    st: dict[str, Any] = {"count": 0, "done": None, "ack_at": None}

    def on_recv(c: Any, payload: Any) -> None:
        if c.state is None:
            c.state = time.perf_counter()
            st["count"] += 1
            if st["count"] == expected:
                st["done"].set()

    def on_sender_ack(c: Any, rid: int, ok: bool, detail: Any) -> None:
        st["ack_at"] = time.perf_counter()

    def ignore(*_: Any) -> None:
        pass

    for c in receivers:
        wire.listen(c, on_recv, ignore)
    wire.listen(sender, ignore, on_sender_ack)
    await asyncio.sleep(0.3)
    gc.collect()
    gc.freeze()

    text = _pad_text(60)
    last: list[float] = []
    median_member: list[float] = []
    first: list[float] = []
    acks: list[float] = []
    missing = 0
    cpu_used = 0.0
    for r in range(warmup + reps):
        for c in receivers:
            c.state = None
        st.update(count=0, done=asyncio.Event(), ack_at=None)
        cpu0 = server.cpu_s()
        t0 = time.perf_counter()
        wire.send(sender, r + 2, f"g{r}", conv, text, group=True)
        try:
            await asyncio.wait_for(st["done"].wait(), 5)
        except TimeoutError:
            pass
        await asyncio.sleep(0.02)  # let the ack and any straggler land
        cpu1 = server.cpu_s()
        if r < warmup:
            await asyncio.sleep(gap_s)
            continue
        cpu_used += cpu1 - cpu0
        got = sorted(c.state - t0 for c in receivers if c.state is not None)
        missing += expected - len(got)
        if got:
            last.append(got[-1])
            first.append(got[0])
            median_member.append(got[len(got) // 2])
        if st["ack_at"] is not None:
            acks.append(st["ack_at"] - t0)
        await asyncio.sleep(gap_s)
    for c in clients:
        c.close()
    last.sort()
    first.sort()
    median_member.sort()
    acks.sort()
    return {
        "wire": wire.name,
        "members": members,
        "online": len(clients),
        "join_s": join_s,
        "reps": reps,
        "missing_deliveries": missing,
        "last_member_p50_ms": pct(last, 50) * 1e3,
        "last_member_p90_ms": pct(last, 90) * 1e3,
        "last_member_max_ms": (last[-1] * 1e3) if last else float("nan"),
        "first_member_p50_ms": pct(first, 50) * 1e3,
        "median_member_p50_ms": pct(median_member, 50) * 1e3,
        "sender_ack_p50_ms": pct(acks, 50) * 1e3,
        # server CPU over each whole round (store + encode once + 499 writes), per delivery
        "server_cpu_us_per_delivery": cpu_used * 1e6 / max(1, reps * expected),
        "server_cpu_ms_per_fanout": cpu_used * 1e3 / max(1, reps),
    }


# --- 3. highest sustained rate of acknowledged direct messages ------------------------


async def throughput(
    server: Server, tokens: list[str], *, pairs: int = 100, windows: Sequence[int] = (1, 2, 4, 8, 16, 32),
    step_s: float = 2.5, final_s: float = 10.0, text_len: int = 60,
) -> dict[str, Any]:
    """Closed loop: every connection keeps `window` sends outstanding; sweep the window, then hold the best."""
    n = 2 * pairs
    clients = await connect_many(server.port, tokens[:n])
    partner = [user_id(i ^ 1) for i in range(n)]
    text = _pad_text(text_len)
    loop = asyncio.get_running_loop()
    st: dict[str, Any] = {"acks": 0, "errors": 0, "recv": 0, "window": 0, "run": False, "err_sample": None,
                          "measure": False}
    lat: list[int] = []
    pend: list[dict[int, int]] = [{} for _ in range(n)]
    rids = [1] * n
    outbox: list[list[bytes]] = [[] for _ in range(n)]
    dirty: set[int] = set()
    flush_scheduled = [False]
    for i, c in enumerate(clients):
        c.state = i

    def flush() -> None:
        flush_scheduled[0] = False
        for i in dirty:
            clients[i].send_raw(b"".join(outbox[i]))
            outbox[i].clear()
        dirty.clear()

    def top_up(i: int) -> None:
        p = pend[i]
        want = st["window"] - len(p)
        if want <= 0 or not st["run"]:
            return
        now = time.perf_counter_ns()
        box = outbox[i]
        to = partner[i]
        rid = rids[i]
        for _ in range(want):
            rid += 1
            p[rid] = now
            box.append(client_frame(_dumps(
                {"t": "send", "rid": rid, "cid": f"t{rid}", "to": to, "kind": "text", "body": {"text": text}})))
        rids[i] = rid
        dirty.add(i)
        if not flush_scheduled[0]:
            flush_scheduled[0] = True
            loop.call_soon(flush)

    def on_frame(c: WSClient, payload: bytes) -> None:
        kind = payload[6]
        if kind == _M:
            st["recv"] += 1
            return
        if kind != _R:
            return
        o = _loads(payload)
        i = c.state
        t0 = pend[i].pop(o["rid"], None)
        if o["ok"]:
            st["acks"] += 1
            if st["measure"] and t0 is not None:
                lat.append(time.perf_counter_ns() - t0)
        else:
            st["errors"] += 1
            st["err_sample"] = o
        top_up(i)

    for c in clients:
        c.on_frame = on_frame

    async def drain(timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and any(pend):
            await asyncio.sleep(0.005)

    # warm-up: one message per user (creates the direct conversations)
    st.update(window=1, run=True)
    for i in range(n):
        top_up(i)
    st["run"] = False
    await drain(10)
    await asyncio.sleep(0.2)
    gc.collect()
    gc.freeze()

    async def measure(seconds: float) -> dict[str, Any]:
        lat.clear()
        a0, r0, e0 = st["acks"], st["recv"], st["errors"]
        b0 = await batch_stats(server)
        cs0 = server.ctx_switches()
        db0 = await asyncio.to_thread(server.db_cpu_s)
        cpu0, me0, t0 = server.cpu_s(), self_cpu_s(), time.perf_counter()
        slices: list[float] = []
        rss0 = server.rss_kib()
        st["measure"] = True
        end = t0 + seconds
        s_prev, a_prev = t0, a0
        while True:  # 1-second slices; the last one only if it is at least half a second long
            now = time.perf_counter()
            if end - now < 0.05:
                break
            await asyncio.sleep(min(1.0, end - now))
            now = time.perf_counter()
            if now - s_prev >= 0.5:
                slices.append((st["acks"] - a_prev) / (now - s_prev))
            s_prev, a_prev = now, st["acks"]
        st["measure"] = False
        t1, cpu1, me1 = time.perf_counter(), server.cpu_s(), self_cpu_s()
        db1 = await asyncio.to_thread(server.db_cpu_s)
        cs1 = server.ctx_switches()
        acks = st["acks"] - a0
        b1 = await batch_stats(server)
        lat.sort()
        return {
            "window": st["window"],
            "outstanding": st["window"] * n,
            "acks_per_s": acks / (t1 - t0),
            "slowest_1s_slice": min(slices) if slices else float("nan"),
            "slices_per_s": [round(x) for x in slices],
            "ack_p50_ms": pct(lat, 50) / 1e6,
            "ack_p99_ms": pct(lat, 99) / 1e6,
            "delivered_per_s": (st["recv"] - r0) / (t1 - t0),
            "errors": st["errors"] - e0,
            "server_cpu_util": (cpu1 - cpu0) / (t1 - t0),
            "server_cpu_ms_per_msg": (cpu1 - cpu0) * 1e3 / max(1, acks),
            "db_cpu_ms_per_msg": (db1 - db0) * 1e3 / max(1, acks),
            "server_ctx_switches_per_msg": (cs1 - cs0) / max(1, acks),
            "loadgen_cpu_util": (me1 - me0) / (t1 - t0),
            "seconds": t1 - t0,
            "server_rss_kib": [rss0, server.rss_kib()],
            "messages_in_db_at_start": b0[1],
            **_batch_fields(b0, b1),
        }

    sweep: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    st["run"] = True
    for w in windows:
        st["window"] = w
        for i in range(n):
            top_up(i)
        await asyncio.sleep(min(1.0, step_s / 3))
        res = await measure(step_s)
        sweep.append(res)
        if best is None or res["acks_per_s"] > best["acks_per_s"]:
            best = res
    assert best is not None
    # the knee: the smallest window within 3 % of the best rate (more only adds latency)
    best = min((s for s in sweep if s["acks_per_s"] >= 0.97 * best["acks_per_s"]), key=lambda s: s["window"])
    # hold the best window for the sustained figure (drain first if it is smaller)
    st["run"] = False
    await drain(10)
    st["run"] = True
    st["window"] = best["window"]
    for i in range(n):
        top_up(i)
    await asyncio.sleep(1.0)
    final = await measure(final_s)
    st["run"] = False
    await drain(10)
    await asyncio.sleep(0.2)
    for c in clients:
        c.close()
    return {"connections": n, "sweep": sweep, "final": final, "error_sample": st["err_sample"],
            "delivered_ratio_total": st["recv"] / max(1, st["acks"])}


# --- 4. memory per idle authenticated connection --------------------------------------


async def memory(
    server: Any, tokens: list[str] | Wire, *, connections: int = 5000, warmup: int = 20, settle_s: float = 2.0,
    concurrency: int = 100,
) -> dict[str, Any]:
    wire = as_wire(tokens)
    warm = await wire.connect(server.port, range(warmup))
    await asyncio.sleep(settle_s)
    rss0, cpu0 = server.rss_kib(), server.cpu_s()
    t0 = time.perf_counter()
    conns = await wire.connect(server.port, range(warmup, warmup + connections), concurrency=concurrency)
    t1 = time.perf_counter()
    cpu1 = server.cpu_s()
    await asyncio.sleep(settle_s)
    rss1 = server.rss_kib()
    await asyncio.sleep(settle_s)
    rss2 = server.rss_kib()
    alive = sum(1 for c in conns if not c.closed)
    for c in conns + warm:
        c.close()
    return {
        "wire": wire.name,
        "connections": connections,
        "alive_at_end": alive,
        "rss_before_kib": rss0,
        "rss_after_kib": rss1,
        "rss_after_later_kib": rss2,
        "bytes_per_connection": (max(rss1, rss2) - rss0) * 1024 / connections,
        "connect_rate_per_s": connections / (t1 - t0),
        "server_cpu_ms_per_connect": (cpu1 - cpu0) * 1e3 / connections,
    }

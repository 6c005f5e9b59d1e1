"""The gateway's send path without a network: coalesced writes and spread heartbeats."""

from __future__ import annotations

import asyncio

from semot.gateway.connection import Connection, WriteCoalescer
from semot.gateway.hub import Hub
from semot.metrics import Metrics
from semot.protocol.session import SessionProtocol


class FakeTransport:
    """Records every write() call: what the kernel would see as one send each."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.buffered = 0

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.closing = True


def make_conn(coalescer: WriteCoalescer | None, user: str = "u", *, now: float = 0.0) -> tuple[Connection, FakeTransport]:
    t = FakeTransport()
    proto = SessionProtocol(now, auth_timeout=10.0, rate_per_s=10.0, burst=5, close_after=3)
    conn = Connection(None, t, proto, send_limit=1 << 20, metrics=Metrics(), coalescer=coalescer)  # type: ignore[arg-type]
    conn.user_id = user
    conn.device_id = f"{user}-dev"
    conn.session_id = f"s-{user}"
    return conn, t


async def stop_heartbeat(hub: Hub) -> None:
    task = hub._task
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def ticks(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_frames_of_one_burst_leave_in_one_write_in_order() -> None:
    co = WriteCoalescer()
    a, ta = make_conn(co, "a")
    b, tb = make_conn(co, "b")
    assert a.send(b"push-1") and b.send(b"push-1") and a.send(b"push-2")
    # the acks of a commit follow one loop iteration later, from the futures' callbacks
    asyncio.get_running_loop().call_soon(a.send, b"ack-1")
    assert ta.writes == [] and tb.writes == []
    await ticks(3)
    assert ta.writes == [b"push-1push-2ack-1"]
    assert tb.writes == [b"push-1"]
    assert a.send(b"later")
    await ticks(3)
    assert ta.writes[-1] == b"later"


async def test_flush_before_close_and_nothing_after_abort() -> None:
    co = WriteCoalescer()
    a, ta = make_conn(co, "a")
    a.send(b"reply")
    a.flush()  # what GatewayWebSocket.close does before writing the close frame
    assert ta.writes == [b"reply"]
    a.send(b"dropped")
    a.abort()
    await ticks(3)
    assert ta.writes == [b"reply"]
    assert not a.send(b"more")


async def test_slow_consumer_is_aborted_before_queueing() -> None:
    co = WriteCoalescer()
    a, ta = make_conn(co, "a")
    ta.buffered = (1 << 20) + 1
    assert not a.send(b"x")
    assert ta.closing and a.closed


async def test_heartbeat_round_is_spread_over_the_interval() -> None:
    # these connections never answer: seen "in the future", so that however slow a loaded
    # machine runs the round, none is found silent for two intervals (dropped, not pinged)
    hub = Hub(Metrics(), heartbeat_s=3)
    loop = asyncio.get_running_loop()
    conns = [make_conn(None, f"u{i}", now=loop.time() + 600) for i in range(2000)]
    for c, _ in conns:
        hub.register(c)
    seen: list[float] = []
    for _c, t in conns:
        t.write = lambda data, t=t: seen.append(loop.time())  # type: ignore[method-assign]
    hub.start()
    started = loop.time()
    try:
        # wait for the first round on a condition, not a fixed time: a loaded machine is slow
        deadline = loop.time() + 20
        while len(seen) < 2000 and loop.time() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await stop_heartbeat(hub)
    pings = [x - started for x in seen]
    assert len(pings) >= 2000  # everyone pinged in the first round
    first_round = sorted(pings)[:2000]
    # slices of at most 500, 50 ms apart at least: never all at once
    assert first_round[-1] - first_round[0] >= 0.5


async def test_silent_connection_is_dropped_live_one_kept() -> None:
    hub = Hub(Metrics(), heartbeat_s=1)
    loop = asyncio.get_running_loop()
    live, tl = make_conn(None, "live", now=loop.time())
    dead, td = make_conn(None, "dead", now=loop.time() - 5)
    for c in (live, dead):
        hub.register(c)
    hub.start()
    try:
        await asyncio.sleep(1.2)
    finally:
        await stop_heartbeat(hub)
    assert td.closing and not hub.user_online("dead")
    assert hub.user_online("live") and tl.writes == [b"\x89\x00"]


"""A stalled reader is dropped once its send buffer fills, and never holds up anyone else
(DESIGN.md "Delivery that loses nothing"; issue 2, "Gateway")."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.integration.harness import Api, Clients, RawWS, ServerProcess, all_history, eventually, metric


async def _connections(api: Api, srv: ServerProcess, n: int) -> bool:
    return await metric(api, srv, "semot_connections") == n


async def test_stalled_reader_is_dropped_others_keep_receiving(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv: ServerProcess = spawn_server(
        {"SEMOT_SEND_BUFFER_BYTES": "65536", "SEMOT_RATE_PER_S": "100000", "SEMOT_RATE_BURST": "100000"}
    )
    s1, s2, good, stalled = await api.accounts(srv, 4, "bp")
    conv = await api.group(srv, s1, [s2, good, stalled], "firehose")
    w1 = await clients.connect(srv, s1)
    w2 = await clients.connect(srv, s2)
    wg = await clients.connect(srv, good)
    # The stalled peer: authenticates, then never reads its socket again.
    raw = await RawWS.connect(srv, rcvbuf=4096)
    await raw.auth(stalled)
    await eventually(lambda: _connections(api, srv, 4), what="four connections registered")

    payload = "x" * 16000
    per_sender = 150

    async def pump(ws: Any, tag: str) -> list[int]:
        seqs = []
        window: set[asyncio.Future[dict[str, Any]]] = set()
        for i in range(per_sender):
            window.add(ws.start_request("send", cid=f"{tag}{i}", to=conv, kind="custom", body={"type": "blob", "data": payload}))
            if len(window) >= 4:
                done, window = await asyncio.wait(window, return_when=asyncio.FIRST_COMPLETED)
                seqs += [f.result()["data"]["seq"] for f in done]
        seqs += [(await f)["data"]["seq"] for f in window]
        return seqs

    started = time.monotonic()
    acked = await asyncio.wait_for(asyncio.gather(pump(w1, "a"), pump(w2, "b")), 60)
    total = 1 + 2 * per_sender
    assert sorted(acked[0] + acked[1]) == list(range(2, total + 1))
    # The well-behaved member got everything, without being held up.
    got = await wg.wait_msgs(conv, 2 * per_sender, timeout=30)
    assert sorted(m["seq"] for m in got) == list(range(2, total + 1))
    assert time.monotonic() - started < 30
    assert not wg.closed.is_set() and not w1.closed.is_set() and not w2.closed.is_set()

    # The stalled one was dropped: counted, unregistered, and its socket ends.
    assert await metric(api, srv, "semot_slow_consumers_dropped_total") >= 1
    await eventually(lambda: _connections(api, srv, 3), what="the dropped connection is unregistered")
    received = 0
    try:
        while True:
            frame = await asyncio.wait_for(raw.read_frame(), 10)
            if frame is None:
                break
            received += 1
    finally:
        raw.close()
    assert received < 2 * per_sender, "the stalled peer was never cut off"
    # It can come back and catch up through history: nothing was lost for it.
    back = await clients.connect(srv, stalled)
    history = await all_history(back, conv)
    assert [m["seq"] for m in history] == list(range(1, total + 1))
    # and the others still chat
    ack = await w1.call("send", cid="after", to=conv, kind="text", body={"text": "all good"})
    for ws in (wg, back):
        m = await ws.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == ack["seq"])
        assert m["body"] == {"text": "all good"}

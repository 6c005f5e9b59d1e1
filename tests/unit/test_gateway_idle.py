"""What idle connections cost the node: pongs that do not wake sessions, and the GC governor."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass

from aiohttp import WSMsgType
from aiohttp._websocket.reader import WebSocketReader

from semot.gateway.connection import _Inbox
from semot.gateway.gcpolicy import GcGovernor
from semot.protocol.session import SessionProtocol


class _Proto:
    """The bits of aiohttp's RequestHandler the queue touches."""

    _reading_paused = False

    def pause_reading(self) -> None:
        pass


async def test_pong_stamps_last_seen_without_queueing() -> None:
    loop = asyncio.get_running_loop()
    inbox = _Inbox(_Proto(), 2**16, loop=loop)
    reader = WebSocketReader(inbox, 1 << 20, compress=False, decode_text=False)
    session = SessionProtocol(0.0, auth_timeout=5, rate_per_s=10, burst=10, close_after=5)
    inbox.session = session
    reader.feed_data(b"\x8a\x00")  # PONG, unmasked, empty: the reader does not care here
    assert session.last_seen > 0.0
    assert not inbox._buffer, "a pong must not be queued for the session's task"
    reader.feed_data(b"\x81\x02hi")  # TEXT frames still reach the session
    msg = await asyncio.wait_for(inbox.read(), 1)
    assert msg.type is WSMsgType.TEXT and msg.data == b"hi"
    reader.feed_data(b"\x89\x00")  # and so do PINGs (the session answers them)
    assert (await asyncio.wait_for(inbox.read(), 1)).type is WSMsgType.PING


@dataclass
class _Counts:
    connection_count: int = 0
    connects_total: int = 0
    disconnects_total: int = 0


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_governor_freezes_batches_and_collects_after_churn() -> None:
    frozen_before = gc.get_freeze_count()
    counts = _Counts()
    gov = GcGovernor(counts, batch=10, min_churn=20)
    try:
        counts.connects_total = counts.connection_count = 5
        gov.step(storm_over=False)
        assert gov.freezes == 0  # below the batch, connects still coming
        gov.step(storm_over=True)
        assert gov.freezes == 1  # the storm is over: settle what came
        assert gc.get_freeze_count() > frozen_before
        # churn: cycles frozen while alive, then dropped, are found by the full collection
        junk = [_Cycle() for _ in range(100)]
        gov.step(storm_over=True)  # nothing new: no freeze
        assert gov.freezes == 1
        counts.connects_total += 10
        gov.step(storm_over=False)
        assert gov.freezes == 2
        del junk
        counts.disconnects_total = 19
        gov.step(storm_over=True)
        assert gov.full_collections == 0  # below min_churn
        counts.disconnects_total = 25
        gov.step(storm_over=True)
        assert gov.full_collections == 1
        assert not any(isinstance(o, _Cycle) for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_gateway_websocket_mirrors_aiohttps_post_start() -> None:
    """GatewayWebSocket._post_start replaces aiohttp's (to put _Inbox in): if an aiohttp
    upgrade makes its own set anything more, this fails instead of a session breaking."""
    import inspect
    import re

    from aiohttp import web

    from semot.gateway.connection import GatewayWebSocket

    def assigned(fn: object) -> set[str]:
        return set(re.findall(r"self\.(\w+) = ", inspect.getsource(fn)))  # type: ignore[arg-type]

    theirs = assigned(web.WebSocketResponse._post_start)
    ours = assigned(GatewayWebSocket._post_start)
    assert theirs <= ours, theirs - ours
    # and the RequestHandler attributes _shed_http_state relies on
    handler_src = inspect.getsource(web.RequestHandler)
    for attr in ("_upgraded", "_payload_parser", "_messages"):
        assert f"self.{attr}" in handler_src, attr

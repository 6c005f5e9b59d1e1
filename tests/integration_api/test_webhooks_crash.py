"""Webhook events are written in the transaction of their change (storage/outbox.py): a
server killed with SIGKILL right after the sends were acknowledged, its hook endpoint
down, loses none. After a restart every event arrives, exactly once by id, in order per
conversation. On SQLite and PostgreSQL.

The server runs with the test-only `SEMOT_TEST_WEBHOOK_HOLD_OUTBOX` at first: nothing is
fanned out before the kill, so what arrives afterwards can only come from the rows the
changes' own transactions wrote (they are counted in the database before the restart).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from tests.integration.harness import Api, Clients, ServerProcess, direct_conv, free_port
from tests.integration_api.webhook_fixtures import PG_URL, Hooks, start_server
from tests.integration_api.webhook_receiver import Receiver

HOLD = "SEMOT_TEST_WEBHOOK_HOLD_OUTBOX"
EVENTS = ["message.sent", "message.recalled", "group.created", "friend.added"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def held(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from start_server(request.param, tmp_path_factory.mktemp(f"crash-{request.param}"), {HOLD: "true"})


async def _outbox_counts(srv: ServerProcess) -> dict[str, int]:
    """The event outbox of the killed server, read from its database."""
    schema = srv.env.get("SEMOT_DATABASE_SCHEMA")
    if schema is None:
        with sqlite3.connect(srv.data_dir / "semot.db") as db:
            return dict(db.execute("SELECT event, count(*) FROM event_outbox GROUP BY event").fetchall())
    conn = await asyncpg.connect(PG_URL)
    try:
        rows = await conn.fetch(f'SELECT event, count(*) AS n FROM "{schema}".event_outbox GROUP BY event')
    finally:
        await conn.close()
    return {r["event"]: r["n"] for r in rows}


async def test_kill_9_after_the_acks_loses_no_event(held: ServerProcess, api: Api, clients: Clients) -> None:
    srv = held
    port = free_port()  # the hook's endpoint: nobody listens there yet
    hooks = Hooks(api, srv)
    await hooks.add(f"http://127.0.0.1:{port}/ok", EVENTS)
    a, b, c = await api.accounts(srv, 3, "crash")
    wa = await clients.connect(srv, a)
    sent: list[tuple[str, int]] = []
    for i in range(20):
        for to in (b, c):
            ack = await wa.send_text(to.user_id, f"m{i}")
            sent.append((direct_conv(a.user_id, to.user_id), ack["seq"]))
    recalled = sent[-1]
    await wa.call("recall", conv=recalled[0], seq=recalled[1])
    gconv = await api.group(srv, a, [b], name="crash")
    status, req = await api.call(srv, "POST", "/api/v1/friends/requests", {"user_id": b.user_id}, token=a.access_token)
    assert status in (200, 201), req
    if req["status"] != "friends":
        status, body = await api.call(srv, "POST", f"/api/v1/friends/requests/{req['request_id']}",
                                      {"action": "accept"}, token=b.access_token)
        assert status == 200, body
    await wa.close()
    srv.kill()  # right after the last acknowledgement: no shutdown code runs

    assert await _outbox_counts(srv) == {"message.sent": 40, "message.recalled": 1, "group.created": 1,
                                         "friend.added": 1}
    receiver = await Receiver().start(port)
    try:
        srv.env.pop(HOLD)
        await srv.astart()
        hits = await receiver.wait(lambda h: True, n=43, timeout=30)
        await asyncio.sleep(1.0)  # anything posted twice would arrive now
        docs: list[dict[str, Any]] = [h.doc for h in receiver.hits]
    finally:
        await receiver.stop()
    ids = [d["id"] for d in docs]
    assert len(ids) == len(set(ids)) == 43, [h.raw[:120] for h in hits]  # each delivery once, nothing else
    got = [(d["data"]["conv"], d["data"]["seq"]) for d in docs if d["event"] == "message.sent"]
    assert sorted(got) == sorted(sent)
    for conv in {cv for cv, _ in sent}:
        seqs = [seq for cv, seq in got if cv == conv]
        assert seqs == sorted(seqs), seqs  # in order per conversation
    [rec] = [d for d in docs if d["event"] == "message.recalled"]
    assert (rec["data"]["conv"], rec["data"]["seq"], rec["data"]["by"]) == (*recalled, a.user_id)
    [grp] = [d for d in docs if d["event"] == "group.created"]
    assert grp["data"]["conv"] == gconv and grp["data"]["name"] == "crash"
    [fr] = [d for d in docs if d["event"] == "friend.added"]
    assert fr["data"]["users"] == sorted([a.user_id, b.user_id])
    # the restarted node's metrics: the events it fanned out, its tries and how long they took
    _, text = await api.call(srv, "GET", "/metrics")
    values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
              if line.startswith(("semot_webhook_events_total ", "semot_webhook_try_seconds_count ",
                                  'semot_webhook_tries_total{outcome="ok"} '))}
    assert values == {"semot_webhook_events_total": 43, "semot_webhook_try_seconds_count": 43,
                      'semot_webhook_tries_total{outcome="ok"}': 43}, values
    await hooks.close()

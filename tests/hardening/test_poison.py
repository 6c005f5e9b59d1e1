"""A poison message must fail alone (issue 8, section 1).

An attacker's message that the database cannot store used to fail the whole group-
commit batch it was in: everyone else's messages in that batch got `unavailable`.
Here user A pipelines 150 sends while attacker B sends poisons in the middle of them,
over real connections to a real server, on SQLite and on PostgreSQL:

- a `custom` message nested 300 levels deep and a `cid` containing NUL, which
  validation now refuses up front;
- a message that passes validation but that storage refuses (the test-only fault
  hook SEMOT_TEST_FAULT_CID_PREFIX), which only the writer's isolation can contain.

All 150 of A's messages must be acknowledged with gap-free seqs, each poison gets a
clear `bad_request`, and sending it again gets the same answer, never `unavailable`
(a client that follows the docs would retry an `unavailable` forever).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from semot.domain.records import AppendResult, NewMessage
from semot.errors import BadRequest, Unavailable
from semot.ids import new_mid
from semot.metrics import Metrics
from semot.services.writer import GroupCommitWriter
from semot.storage.base import Storage
from semot.storage.sql.batch import BatchPlan
from semot.storage.sql.engine import make_engines
from semot.storage.sql.faults import as_storage_error, is_data_error
from semot.storage.sql.store import sql_storage
from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import (
    WS,
    Api,
    Clients,
    ServerProcess,
    all_history,
    direct_conv,
)

FAULT = "poison-"
PIPELINED = 150


class _Pg(Exception):
    """Stands for a PostgreSQL driver error: what matters is its SQLSTATE."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    yield from run_backend(request.param, tmp_path / "data", {"SEMOT_TEST_FAULT_CID_PREFIX": FAULT})


def deep(levels: int) -> Any:
    data: Any = {}
    for _ in range(levels):
        data = {"d": data}
    return data


def poisons(to: str) -> list[tuple[str, dict[str, Any], str]]:
    """(what, send fields, a phrase the error message must contain)."""
    tag = uuid.uuid4().hex[:8]
    return [
        (
            "300 levels of custom data",
            {"cid": f"deep-{tag}", "to": to, "kind": "custom", "body": {"type": "t", "data": deep(300)}},
            "max_custom_depth",
        ),
        ("NUL in the cid", {"cid": f"nul\x00{tag}", "to": to, "kind": "text", "body": {"text": "x"}}, "U+0000"),
        (
            "data the database refuses",
            {"cid": f"{FAULT}{tag}", "to": to, "kind": "text", "body": {"text": "looks fine"}},
            "message could not be stored",
        ),
    ]


async def test_a_poison_fails_alone_and_the_same_way_every_time(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    a, b, c = await api.accounts(server, 3, "poison")
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    wc = await clients.connect(server, c)

    # A's sends and B's poisons leave interleaved, without waiting for any reply, so the
    # poisons land in the same write batches as A's messages: every 5th of A's sends is
    # followed by a poison that passes validation, and three times by all three kinds.
    acks: list[asyncio.Future[dict[str, Any]]] = []
    bad: list[tuple[str, dict[str, Any], str, asyncio.Future[dict[str, Any]]]] = []
    for i in range(PIPELINED):
        acks.append(wa.start_request("send", cid=f"a-{i}", to=c.user_id, kind="text", body={"text": f"m{i}"}))
        if i % 5 == 2:
            kinds = poisons(c.user_id)
            for what, fields, phrase in kinds if i in (42, 77, 112) else kinds[-1:]:
                bad.append((what, fields, phrase, wb.start_request("send", **fields)))
        await asyncio.sleep(0)  # let the frames of both connections interleave on the wire
    replies = await asyncio.wait_for(asyncio.gather(*acks), 60)
    failed = [r for r in replies if not r["ok"]]
    assert not failed, f"{len(failed)} of A's {PIPELINED} sends failed, e.g. {failed[:3]}"
    seqs = [r["data"]["seq"] for r in replies]
    assert seqs == list(range(1, PIPELINED + 1)), seqs  # gap-free, in the order sent

    for what, fields, phrase, fut in bad:
        reply = await asyncio.wait_for(fut, 30)
        assert reply["ok"] is False, f"{what}: {reply}"
        assert reply["error"]["code"] == "bad_request", f"{what}: {reply}"
        assert phrase in reply["error"]["message"], f"{what}: {reply}"
        again = await wb.request("send", **fields)  # a client retrying with the same cid
        assert again["ok"] is False and again["error"] == reply["error"], f"{what} on retry: {again}"

    # everything acknowledged is stored and was pushed; no poison was stored
    conv = direct_conv(a.user_id, c.user_id)
    stored = await all_history(wc, conv)
    assert [m["body"]["text"] for m in stored] == [f"m{i}" for i in range(PIPELINED)]
    assert len(await wc.wait_msgs(conv, PIPELINED)) == PIPELINED
    assert await all_history(wc, direct_conv(b.user_id, c.user_id)) == []

    # the attacker's connection still works, and so does a poison-free retry of its message
    ok = await wb.send_text(c.user_id, "sorry")
    assert ok["seq"] == 1
    assert_clean_log(server)


async def test_a_poison_alone_in_its_batch(server: ServerProcess, api: Api, clients: Clients) -> None:
    """With nothing else in flight the poison is a batch of one: still a bad_request."""
    a, b = await api.accounts(server, 2, "lone")
    wa = await clients.connect(server, a)
    cid = f"{FAULT}{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        reply = await wa.request("send", cid=cid, to=b.user_id, kind="text", body={"text": "x"})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
        assert reply["error"]["message"].startswith("message could not be stored"), reply
    assert (await wa.send_text(b.user_id, "fine"))["seq"] == 1
    assert_clean_log(server)


async def _pipeline(ws: WS, to: str, cids: list[str]) -> list[dict[str, Any]]:
    """Send one message per cid without waiting for acks, yielding between frames so
    that several connections' frames interleave; returns the replies in order."""
    futs = []
    for cid in cids:
        futs.append(ws.start_request("send", cid=cid, to=to, kind="text", body={"text": cid}))
        await asyncio.sleep(0)
    return list(await asyncio.wait_for(asyncio.gather(*futs), 60))


async def test_poisons_from_many_senders_never_touch_the_innocent(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    """Four innocent senders and a stream of storage-refused poisons at once, into one
    group: every innocent message is acknowledged, numbered without gaps, each sender's
    in the order sent; every poison gets bad_request."""
    users = await api.accounts(server, 6, "many")
    owner, attacker, *senders = users
    wo = await clients.connect(server, owner)
    conv = await api.group(server, owner, [attacker, *senders])
    conns = [await clients.connect(server, u) for u in senders]
    evil = await clients.connect(server, attacker)
    runs = [_pipeline(ws, conv, [f"{ws.user_id}-{i}" for i in range(60)]) for ws in conns]
    runs.append(_pipeline(evil, conv, [f"{FAULT}{i}" for i in range(60)]))
    *innocent, poisoned = await asyncio.gather(*runs)
    for replies in innocent:
        failed = [r for r in replies if not r["ok"]]
        assert not failed, f"{len(failed)} innocent sends failed, e.g. {failed[:3]}"
        seqs = [r["data"]["seq"] for r in replies]
        assert seqs == sorted(seqs), seqs  # one sender's messages keep their order
    for reply in poisoned:
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
    stored = await all_history(wo, conv)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))  # gap-free
    assert len(stored) == 1 + 4 * 60  # the group's creation notice and the innocent messages
    assert_clean_log(server)


# --------------------------------------------------------------------------- the writer itself
# In-process, on a real SQLite store: how the writer splits a batch, what an outage in
# the middle of that does, and how storage tells data errors from outages.


class Recorder:
    """The writer's storage: real SQLite, counting calls, and optionally 'going down'."""

    def __init__(self, store: Storage, down_after: int | None = None) -> None:
        self.store = store
        self.down_after = down_after
        self.calls: list[int] = []  # batch sizes, in call order

    async def append_messages(self, batch: list[NewMessage]) -> list[AppendResult | Exception]:
        self.calls.append(len(batch))
        if self.down_after is not None and len(self.calls) > self.down_after:
            raise sqlite3.OperationalError("disk I/O error")
        return await self.store.messages.append_messages(batch)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    s = sql_storage(make_engines(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"))
    await s.migrate()
    BatchPlan.fault_cid_prefix = FAULT
    try:
        yield s
    finally:
        BatchPlan.fault_cid_prefix = None
        await s.close()


def msg(sender: str, cid: str) -> NewMessage:
    return NewMessage(direct_conv(sender, "zed"), sender, cid, "text", {"text": cid}, {}, 1, new_mid(), tuple(sorted((sender, "zed"))))  # type: ignore[arg-type]


async def commit(storage: Recorder, batch: list[NewMessage]) -> tuple[list[Any], list[list[str]]]:
    """Run one batch through a writer; (each message's result or error, what on_stored got)."""
    stored: list[list[str]] = []
    futs: list[asyncio.Future[AppendResult]] = []

    def on_stored(results: list[tuple[NewMessage, AppendResult]]) -> None:
        assert not any(f.done() for f in futs), "an ack went out before the fan-out"
        stored.append([r.message.cid for _, r in results])

    writer = GroupCommitWriter(storage, on_stored, Metrics(), batch_max=len(batch))  # type: ignore[arg-type]
    writer.start()
    futs = [writer.submit(m) for m in batch]  # all queued before the writer's task runs: one batch
    await writer.stop()
    out = [f.exception() or f.result() for f in futs]
    return out, stored


async def test_the_writer_bisects_around_poisons_in_order(store: Storage) -> None:
    batch = [msg("amy", f"a{i}") for i in range(10)]
    batch[3] = msg("amy", f"{FAULT}3")
    batch[8] = msg("bob", f"{FAULT}8")
    rec = Recorder(store)
    out, stored = await commit(rec, batch)
    assert [type(r).__name__ for r in out] == ["AppendResult"] * 3 + ["BadRequest"] + ["AppendResult"] * 4 + ["BadRequest", "AppendResult"]
    assert str(out[3]) == f"message could not be stored: injected test fault for cid '{FAULT}3'"
    assert [r.message.seq for r in out if isinstance(r, AppendResult)] == list(range(1, 9))  # gap-free, in order
    assert stored == [["a0", "a1", "a2", "a4", "a5", "a6", "a7", "a9"]]  # once, in commit order
    assert len(rec.calls) <= 2 * len(batch)


async def test_an_outage_during_bisection_fails_the_rest_at_once(store: Storage) -> None:
    batch = [msg("amy", f"b{i}") for i in range(8)]
    batch[6] = msg("amy", f"{FAULT}6")
    rec = Recorder(store, down_after=2)  # the whole batch (poisoned), its left half, then down
    out, stored = await commit(rec, batch)
    assert rec.calls == [8, 4, 4]  # no bisecting of an outage, no further tries
    assert all(isinstance(r, AppendResult) for r in out[:4])
    assert all(isinstance(r, Unavailable) for r in out[4:])
    assert stored == [["b0", "b1", "b2", "b3"]]


async def test_a_lone_poison_is_tried_twice_then_refused(store: Storage) -> None:
    rec = Recorder(store)
    out, stored = await commit(rec, [msg("amy", f"{FAULT}x")])
    assert rec.calls == [1, 1] and isinstance(out[0], BadRequest) and stored == []


async def test_an_outage_without_poison_is_unavailable_for_all(store: Storage) -> None:
    rec = Recorder(store, down_after=0)
    out, _ = await commit(rec, [msg("amy", f"c{i}") for i in range(4)])
    assert rec.calls == [4] and all(isinstance(r, Unavailable) for r in out)


@pytest.mark.parametrize(
    ("exc", "data"),
    [
        (sqlite3.IntegrityError("UNIQUE constraint failed"), True),
        (sqlite3.InterfaceError("Error binding parameter 1"), True),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), True),
        (TypeError("Recursion limit reached"), True),
        (ValueError("x"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (sqlite3.OperationalError("disk I/O error"), False),
        (ConnectionRefusedError(111, "Connect call failed"), False),
        (TimeoutError(), False),
        (sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), False),
        (sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")), True),
        (sa_exc.DBAPIError("INSERT", {}, _Pg("22021", 'invalid byte sequence for encoding "UTF8": 0x00')), True),
        (sa_exc.DBAPIError("INSERT", {}, _Pg("23505", "duplicate key value")), True),
        (sa_exc.DBAPIError("INSERT", {}, _Pg("57P01", "terminating connection due to administrator command")), False),
        (sa_exc.DBAPIError("INSERT", {}, _Pg("53100", "could not extend file: No space left on device")), False),
    ],
)
def test_data_errors_are_told_from_outages(exc: BaseException, data: bool) -> None:
    assert is_data_error(exc) is data
    translated = as_storage_error(exc)
    assert (translated is not None) is data
    if translated is not None:
        assert "\n" not in translated.reason and "INSERT" not in translated.reason

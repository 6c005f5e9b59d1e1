"""The developer tools' storage on every backend: protocol log sessions (upsert, end,
expiry), captured frames read by cursor and pruned without ever reusing an id, client
error reports filtered, paged and pruned."""

from __future__ import annotations

import pytest

from semot.domain.devtools import CapturedFrame, ClientError, ClientErrorFilter, LogSession
from semot.storage.base import Storage

pytestmark = pytest.mark.asyncio


def frame(user: str, ts: int, text: str = "{}", direction: str = "in") -> CapturedFrame:
    return CapturedFrame(user, ts, direction, "node1", "dev1", "web", "s_1", len(text), text, False)


def report(ts: int, user: str | None, message: str, app: str = "web") -> ClientError:
    return ClientError(ts, user, "10.0.0.1", app, "1.0", message, "at f (x.js:1:2)", "http://h/", "UA")


async def test_log_sessions_start_replace_end_and_expire(storage: Storage) -> None:
    dt = storage.devtools
    assert await dt.log_sessions(1000) == []
    await dt.set_log_session(LogSession("ann", 5000, "adm", 1000))
    await dt.set_log_session(LogSession("ben", 3000, "adm", 1000))
    assert [s.user_id for s in await dt.log_sessions(1000)] == ["ben", "ann"]  # soonest end first
    await dt.set_log_session(LogSession("ann", 2000, "adm2", 1500))  # replaced, earlier end
    assert await dt.log_sessions(1000) == [LogSession("ann", 2000, "adm2", 1500), LogSession("ben", 3000, "adm", 1000)]
    assert await dt.end_log_session("ann") == LogSession("ann", 2000, "adm2", 1500)
    assert await dt.end_log_session("ann") is None
    assert await dt.log_sessions(3000) == []  # ben's ended at 3000: gone
    assert await dt.end_log_session("ben") is None


async def test_frames_by_cursor_and_pruning(storage: Storage) -> None:
    dt = storage.devtools
    await dt.add_frames([])
    await dt.add_frames([frame("ann", 1, '{"t":"ping"}'), frame("ben", 2), frame("ann", 3, "x", "out")])
    got = await dt.frames("ann", after=0, limit=10)
    assert [(f.ts, f.direction, f.text) for f in got] == [(1, "in", '{"t":"ping"}'), (3, "out", "x")]
    assert got[0].id < got[1].id and (got[0].node, got[0].device_id, got[0].platform) == ("node1", "dev1", "web")
    assert await dt.frames("ann", after=got[0].id, limit=10) == [got[1]]
    assert await dt.frames("ann", after=0, limit=1) == [got[0]]
    assert await dt.frames("ann", after=got[1].id, limit=10) == []
    # by age, then by count; ids are never reused once the table was emptied
    assert await dt.prune_frames(before_ts=2, keep=100) == 1
    assert [f.ts for f in await dt.frames("ann", after=0, limit=10)] == [3]
    await dt.add_frames([frame("ann", 10 + i) for i in range(5)])
    assert await dt.prune_frames(before_ts=0, keep=2) >= 4
    assert [f.ts for f in await dt.frames("ann", after=0, limit=10)] == [13, 14]
    assert await dt.prune_frames(before_ts=100, keep=100) == 2
    await dt.add_frames([frame("ann", 200)])
    (again,) = await dt.frames("ann", after=0, limit=10)
    assert again.id > got[1].id + 5


async def test_client_errors_filtered_paged_pruned(storage: Storage) -> None:
    dt = storage.devtools
    ids = [
        await dt.add_client_error(report(100, "ann", "TypeError: x is undefined")),
        await dt.add_client_error(report(200, None, "Login failed: 100%_done", app="admin")),
        await dt.add_client_error(report(300, "ben", "typeerror again")),
    ]
    assert ids == sorted(ids) and len(set(ids)) == 3
    page, total = await dt.client_errors(ClientErrorFilter(), offset=0, limit=2)
    assert total == 3 and [e.id for e in page] == [ids[2], ids[1]]  # newest first
    assert page[1].user_id is None and page[1].app == "admin" and page[1].stack == "at f (x.js:1:2)"
    page, total = await dt.client_errors(ClientErrorFilter(), offset=2, limit=2)
    assert total == 3 and [e.id for e in page] == [ids[0]]

    async def found(**kw: object) -> list[int]:
        return [e.id for e in (await dt.client_errors(ClientErrorFilter(**kw), offset=0, limit=10))[0]]  # type: ignore[arg-type]

    assert await found(q="TYPEERROR") == [ids[2], ids[0]]
    assert await found(q="100%_") == [ids[1]]  # LIKE wildcards are literal
    assert await found(q="%") == [ids[1]]
    assert await found(app="admin") == [ids[1]]
    assert await found(user_id="ann") == [ids[0]]
    assert await found(since=200, until=300) == [ids[1]]
    assert await found(user_ids=frozenset({"ben", "ann"})) == [ids[2], ids[0]]  # no anonymous ones
    assert await found(user_ids=frozenset()) == []
    assert await dt.prune_client_errors(keep=1) == 2
    assert await found() == [ids[2]]

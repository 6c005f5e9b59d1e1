"""The login log on every backend: append in batches, the filters of the admin list
(user, time range, success, address, text, the administrator's scope), newest-first
pages with a total, the export's keyset walk, and the retention purge."""

from __future__ import annotations

import pytest

from semot.storage.base import Storage
from semot.storage.login_logs import LoginLogEntry, LoginLogQuery

pytestmark = pytest.mark.asyncio


def attempt(
    ts: int, user: str | None, *, ok: bool = True, ip: str = "10.0.0.1", name: str | None = None
) -> LoginLogEntry:
    return LoginLogEntry(
        ts=ts,
        user_id=user,
        username=name or user or "ghost",
        ip=ip,
        device="Chrome 126 · Windows",
        platform="web",
        user_agent="Mozilla/5.0",
        ok=ok,
        reason="" if ok else "wrong_password",
    )


async def seed(storage: Storage) -> None:
    await storage.login_logs.add_login_logs(
        [
            attempt(1000, "ann"),
            attempt(2000, "ann", ok=False, ip="10.0.0.2"),
            attempt(2000, "ben", ip="192.168.1.7"),
            attempt(3000, None, ok=False, ip="10.0.0.2", name="Ghost_100%"),
            attempt(4000, "ben", ok=False, ip="10.0.0.20"),
        ]
    )


async def test_append_and_list_newest_first(storage: Storage) -> None:
    await seed(storage)
    logs, total = await storage.login_logs.login_logs(LoginLogQuery(), offset=0, limit=10)
    assert total == 5
    assert [(e.ts, e.user_id) for e in logs] == [
        (4000, "ben"),
        (3000, None),
        (2000, "ben"),
        (2000, "ann"),
        (1000, "ann"),
    ]
    assert all(e.id > 0 for e in logs) and len({e.id for e in logs}) == 5
    first = logs[-1]
    assert (
        first.username,
        first.ip,
        first.device,
        first.platform,
        first.user_agent,
        first.ok,
        first.reason,
        first.method,
    ) == ("ann", "10.0.0.1", "Chrome 126 · Windows", "web", "Mozilla/5.0", True, "", "password")
    page, total = await storage.login_logs.login_logs(LoginLogQuery(), offset=1, limit=2)
    assert total == 5 and [e.ts for e in page] == [3000, 2000]


async def test_filters(storage: Storage) -> None:
    await seed(storage)
    ll = storage.login_logs

    async def ts(query: LoginLogQuery) -> list[int]:
        logs, total = await ll.login_logs(query, offset=0, limit=50)
        assert total == len(logs)
        return [e.ts for e in logs]

    assert await ts(LoginLogQuery(user_id="ann")) == [2000, 1000]
    assert await ts(LoginLogQuery(since=2000, until=4000)) == [3000, 2000, 2000]
    assert await ts(LoginLogQuery(ok=False)) == [4000, 3000, 2000]
    assert await ts(LoginLogQuery(ok=True, user_id="ben")) == [2000]
    assert await ts(LoginLogQuery(ip="10.0.0.2")) == [3000, 2000]  # a whole address: that address only
    assert await ts(LoginLogQuery(ip="10.0.0.")) == [4000, 3000, 2000, 1000]  # a part: addresses starting with it
    assert await ts(LoginLogQuery(ip="192.")) == [2000]
    assert await ts(LoginLogQuery(q="GHOST")) == [3000]  # any case
    assert await ts(LoginLogQuery(q="100%")) == [3000]  # LIKE's wildcards are literal
    assert await ts(LoginLogQuery(q="_")) == [3000]
    assert await ts(LoginLogQuery(q="en")) == [4000, 2000]
    assert await ts(LoginLogQuery(user_ids=frozenset({"ben"}))) == [4000, 2000]
    assert await ts(LoginLogQuery(user_ids=frozenset())) == []  # an empty scope sees nothing, not everything


async def test_a_large_scope(storage: Storage) -> None:
    """Thousands of users in the administrator's departments: one parameter, not thousands."""
    await seed(storage)
    scope = frozenset({f"user{i}" for i in range(40_000)} | {"ann"})
    logs, total = await storage.login_logs.login_logs(LoginLogQuery(user_ids=scope), offset=0, limit=50)
    assert total == 2 and [e.user_id for e in logs] == ["ann", "ann"]
    walked = await storage.login_logs.login_logs_before(LoginLogQuery(user_ids=scope), before=None, limit=50)
    assert [e.ts for e in walked] == [2000, 1000]


async def test_keyset_walk_visits_every_row_once(storage: Storage) -> None:
    await storage.login_logs.add_login_logs([attempt(1000 + i // 3, f"u{i}") for i in range(20)])
    seen: list[int] = []
    before: tuple[int, int] | None = None
    while True:
        part = await storage.login_logs.login_logs_before(LoginLogQuery(), before=before, limit=7)
        if not part:
            break
        seen += [e.id for e in part]
        before = (part[-1].ts, part[-1].id)
    assert len(seen) == len(set(seen)) == 20
    filtered = await storage.login_logs.login_logs_before(LoginLogQuery(since=1005), before=None, limit=50)
    assert sorted(e.ts for e in filtered) == [1005, 1005, 1005, 1006, 1006]


async def test_purge_by_time(storage: Storage) -> None:
    await seed(storage)
    assert await storage.login_logs.purge_login_logs(2500) == 3
    logs, total = await storage.login_logs.login_logs(LoginLogQuery(), offset=0, limit=10)
    assert total == 2 and [e.ts for e in logs] == [4000, 3000]
    assert await storage.login_logs.purge_login_logs(2500) == 0


async def test_long_values_within_bounds(storage: Storage) -> None:
    """The service truncates to the column widths; the store takes them as they are."""
    e = LoginLogEntry(
        ts=1,
        user_id=None,
        username="x" * 64,
        ip="f" * 39,
        device="d" * 128,
        platform="p" * 16,
        user_agent="中" * 512,
        ok=False,
        reason="unknown_user",
    )
    await storage.login_logs.add_login_logs([e])
    (got,), _ = await storage.login_logs.login_logs(LoginLogQuery(), offset=0, limit=1)
    assert (got.username, got.device, got.user_agent) == (e.username, e.device, e.user_agent)

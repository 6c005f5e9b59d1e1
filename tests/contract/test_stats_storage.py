"""The dashboard's storage on every backend: per-minute counters added by several nodes
sum up, are read by range and purged by age; new users per local day; totals."""

from __future__ import annotations

import pytest

from semot.domain.files import FileRecord
from semot.domain.records import User
from semot.storage.base import Storage
from semot.storage.stats import DAY_MS, MINUTE_MS, minute_of

pytestmark = pytest.mark.asyncio

T0 = 1_700_000_000_000 - 1_700_000_000_000 % DAY_MS  # a UTC midnight


def user(name: str, created_at: int) -> User:
    return User(id=name, username=name, display_name=name, password_hash="x", created_at=created_at)


async def test_counters_add_up_across_nodes(storage: Storage) -> None:
    st = storage.stats
    m0, m1, m2 = T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS
    await st.add_counts("messages", {m0: 3, m1: 1})  # node A
    await st.add_counts("messages", {m1: 4, m2: 2, m0: 0})  # node B
    await st.add_counts("logins", {m1: 9})
    await st.add_counts("messages", {})
    assert await st.counts("messages", m0, m2 + MINUTE_MS) == {m0: 3, m1: 5, m2: 2}
    assert await st.counts("messages", m1, m2) == {m1: 5}  # until is exclusive
    assert await st.counts("logins", m0, m2) == {m1: 9}
    assert await st.purge_counts(m1) == 1
    assert await st.counts("messages", 0, m2 + MINUTE_MS) == {m1: 5, m2: 2}
    assert minute_of(m1 + 59_999) == m1


async def test_new_users_per_local_day(storage: Storage) -> None:
    for name, at in [
        ("a", T0 - 1),
        ("b", T0),
        ("c", T0 + 3_600_000),
        ("d", T0 + DAY_MS + 5),
        ("e", T0 + 20 * 3_600_000),
    ]:
        await storage.users.create_user(user(name, at))
    st = storage.stats
    assert await st.user_count() == 5
    assert await st.users_created_per_day(T0, tz_offset_ms=0) == {T0: 3, T0 + DAY_MS: 1}
    # UTC+8: 20:00 UTC is the next local day; local midnight is 16:00 UTC the day before
    tz = 8 * 3_600_000
    assert await st.users_created_per_day(T0 - DAY_MS, tz_offset_ms=tz) == {
        T0 - tz: 3,
        T0 + DAY_MS - tz: 2,
    }


async def test_files_usage_and_database_size(storage: Storage) -> None:
    st = storage.stats
    assert await st.files_usage() == (0, 0)
    for fid, size, offset in [("f1", 100, 100), ("f2", 50, 20), ("f3", 7, 7)]:
        await storage.files.create_file(
            FileRecord(
                id=fid, owner="ann", name="x", size=size, offset=0, mime="application/octet-stream", created_at=1
            )
        )
        assert await storage.files.advance_offset(fid, 0, offset)
    await storage.files.mark_deleted("f3", 2)
    assert await st.files_usage() == (2, 120)
    on_disk = await st.database_bytes()
    assert on_disk is None or on_disk > 0

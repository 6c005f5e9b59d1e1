"""The users store's bulk methods for imports (services/user_import.py), on every backend:
many users in one transaction, skipping those whose id or username (any letter case) is
taken, and finding users by many usernames at once, regardless of case."""

from __future__ import annotations

import pytest

from semot.domain.org import Department, SearchKeys, search_keys
from semot.domain.records import User
from semot.errors import NotFound
from semot.storage.base import Storage


def _user(name: str, **kw: object) -> User:
    return User(id=name, username=name, display_name=name.upper(), password_hash="h", created_at=1, **kw)  # type: ignore[arg-type]


async def test_create_users_skips_taken_names(storage: Storage) -> None:
    await storage.users.create_user(_user("Alice"))
    batch = [_user("bob"), _user("alice"), _user("carol", is_admin=True, disabled=True), _user("BOB")]
    inserted = await storage.users.create_users(batch)
    assert sorted(inserted) == ["bob", "carol"]
    carol = await storage.users.get_user("carol")
    assert carol is not None and carol.is_admin and carol.disabled and carol.display_name == "CAROL"
    assert await storage.users.create_users([]) == []
    # the imported names are folded like registered ones: "Carol" is taken now
    assert await storage.users.create_users([_user("Carol")]) == []


async def test_create_users_many(storage: Storage) -> None:
    batch = [_user(f"bulk{i:04d}") for i in range(1200)]  # more than one IN/VALUES chunk
    inserted = await storage.users.create_users(batch)
    assert len(inserted) == 1200
    again = await storage.users.create_users([*batch[:3], _user("bulk-new")])
    assert again == ["bulk-new"]


async def test_users_by_usernames_any_case(storage: Storage) -> None:
    for name in ("Dora", "eve", "frank"):
        await storage.users.create_user(_user(name))
    found = await storage.users.users_by_usernames(["dora", "EVE", "nobody", "eve"])
    assert sorted(u.id for u in found) == ["Dora", "eve"]
    assert await storage.users.users_by_usernames([]) == []
    many = await storage.users.users_by_usernames([f"x{i}" for i in range(700)] + ["FRANK"])
    assert [u.id for u in many] == ["frank"]


async def test_put_members_in_bulk(storage: Storage) -> None:
    org = storage.org
    now = 1_700_000_000_000
    await org.create_department(Department("dA", None, "A", 0, now))
    await org.create_department(Department("dB", None, "B", 0, now))
    for name in ("m1", "m2", "m3", "m4"):
        await storage.users.create_user(_user(name))
    await org.put_member("dA", "m1", title="old", sort_order=None, keys=search_keys("m1", "m1", "张伟"), now=now)
    rows: list[tuple[str, str, str | None, SearchKeys]] = [
        ("dA", "m1", "new title", search_keys("m1", "m1", "张伟")),  # exists: the title changes
        ("dA", "m2", None, search_keys("m2", "m2", "李娜")),
        ("dB", "m2", "经理", search_keys("m2", "m2", "李娜")),  # a second department
        ("dA", "m3", "工程师", search_keys("m3", "m3", "王强")),
    ]
    assert await org.put_members(rows, now) == 3
    page, total = await org.department_members("dA", offset=0, limit=10)
    assert total == 3 and [(e.user_id, e.title) for e in page] == [("m1", "new title"), ("m2", ""), ("m3", "工程师")]
    assert [e.user_id for e in await org.search("wq", "wq", limit=5)] == ["m3"]  # the keys are searchable
    assert await org.put_members([], now) == 0
    with pytest.raises(NotFound):
        await org.put_members([("nope", "m4", None, search_keys("m4", "m4", "x")), *rows], now)
    assert "m4" not in await org.in_directory(["m4"])

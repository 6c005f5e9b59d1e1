"""UserAdminStorage contract: the admin user list, set-password links and device records,
in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from semot.domain.org import Department, SearchKeys, search_keys
from semot.domain.records import RefreshToken, User
from semot.storage.base import Storage
from semot.storage.user_admin import DeviceSeen, PasswordLink, UserQuery


async def people(storage: Storage) -> None:
    rows = [
        ("alice", "Alice Liddell", 10, False, False),
        ("bob", "Bob 100%_sure", 20, True, False),
        ("carol", "张伟", 30, False, True),
        ("dave", "Dave", 30, False, False),  # same created_at as carol: ties go by id
        ("Erin", "erin", 40, False, False),
    ]
    for uid, name, at, disabled, admin in rows:
        await storage.users.create_user(User(uid, uid, name, "x", is_admin=admin, disabled=disabled, created_at=at))
    await storage.org.create_department(Department("hq", None, "HQ", 0, 1))
    await storage.org.create_department(Department("rd", "hq", "R&D", 0, 1))
    await storage.org.create_department(Department("ops", None, "Ops", 0, 1))
    for dept, uid, name in (("rd", "carol", "张伟"), ("hq", "alice", "Alice Liddell"), ("ops", "dave", "Dave")):
        await storage.org.put_member(dept, uid, title="", sort_order=None, keys=search_keys(uid, uid, name), now=1)


async def ids(storage: Storage, **kw: object) -> tuple[list[str], int]:
    users, total = await storage.user_admin.list_users(UserQuery(**kw))  # type: ignore[arg-type]
    return [u.id for u in users], total


async def test_list_orders_pages_and_counts(storage: Storage) -> None:
    await people(storage)
    assert await ids(storage) == (["Erin", "dave", "carol", "bob", "alice"], 5)
    assert await ids(storage, sort="created_at") == (["alice", "bob", "carol", "dave", "Erin"], 5)
    assert await ids(storage, sort="username") == (["alice", "bob", "carol", "dave", "Erin"], 5)
    assert await ids(storage, sort="-username") == (["Erin", "dave", "carol", "bob", "alice"], 5)
    assert await ids(storage, offset=1, limit=2) == (["dave", "carol"], 5)
    assert await ids(storage, offset=4, limit=2) == (["alice"], 5)
    assert await ids(storage, offset=9, limit=2) == ([], 5)


async def test_list_filters_and_search(storage: Storage) -> None:
    await people(storage)
    assert await ids(storage, disabled=True) == (["bob"], 1)
    assert await ids(storage, disabled=False, admin=False) == (["Erin", "dave", "alice"], 3)
    assert await ids(storage, admin=True) == (["carol"], 1)
    assert await ids(storage, text="ali") == (["alice"], 1)
    assert await ids(storage, text="liddell") == (["alice"], 1)  # display name, any case
    assert await ids(storage, text="erin") == (["Erin"], 1)  # username in another case
    assert await ids(storage, text="100%_") == (["bob"], 1)  # LIKE wildcards are literal
    assert await ids(storage, text="%") == (["bob"], 1)
    assert await ids(storage, text="张") == (["carol"], 1)
    assert await ids(storage, text="zhangw", compact="zhangw") == (["carol"], 1)  # pinyin of directory people
    assert await ids(storage, text="zw", compact="zw") == (["carol"], 1)  # initials
    assert await ids(storage, departments=frozenset({"hq", "rd"})) == (["carol", "alice"], 2)
    assert await ids(storage, departments=frozenset({"rd"}), scope=frozenset({"hq", "rd"})) == (["carol"], 1)
    assert await ids(storage, scope=frozenset({"ops"}), text="a") == (["dave"], 1)
    assert await ids(storage, scope=frozenset()) == ([], 0)
    found = await storage.user_admin.users_in_departments(["alice", "bob", "carol", "ghost"], ["hq", "rd"])
    assert found == {"alice", "carol"}
    assert await storage.user_admin.users_in_departments(["alice"], []) == set()


async def test_password_links_single_use_and_expiry(storage: Storage) -> None:
    store = storage.user_admin
    await store.add_password_link(PasswordLink("h1", "alice", "admin", 100, 1000))
    assert (await store.peek_password_link("h1", 500)) == PasswordLink("h1", "alice", "admin", 100, 1000)
    assert await store.peek_password_link("h1", 1000) is None  # expired
    assert await store.use_password_link("h1", 1000) is None
    used = await store.use_password_link("h1", 600)
    assert used is not None and used.used_at == 600 and used.user_id == "alice"
    assert await store.use_password_link("h1", 601) is None  # once only
    assert await store.peek_password_link("h1", 602) is None
    assert await store.use_password_link("nope", 1) is None

    # a new link replaces the unused one; concurrent uses: exactly one wins
    await store.add_password_link(PasswordLink("h2", "bob", "admin", 100, 10_000))
    await store.add_password_link(PasswordLink("h3", "bob", "admin", 200, 10_000))
    assert await store.peek_password_link("h2", 300) is None
    results = await asyncio.gather(*(store.use_password_link("h3", 300 + i) for i in range(5)))
    assert sum(r is not None for r in results) == 1
    await store.add_password_link(PasswordLink("h4", "bob", "admin", 400, 10_000))
    assert await store.drop_password_links("bob") == 1
    assert await store.peek_password_link("h4", 500) is None


async def test_devices_and_logins(storage: Storage) -> None:
    store = storage.user_admin
    seen = [
        DeviceSeen("alice", "L1", "web-1", "web", "10.0.0.1", 100),
        DeviceSeen("alice", "L1", "web-1", "web", "10.0.0.2", 300),  # the same device again, in one batch
        DeviceSeen("alice", "L2", "phone", "ios", "10.0.0.3", 200),
        DeviceSeen("bob", "L3", "pc", "desktop", "10.0.0.4", 50),
    ]
    await store.record_devices(seen)
    await store.record_devices([DeviceSeen("alice", "L1", "web-1", "web", "10.0.0.5", 400)])
    mine = await store.user_devices("alice")
    assert [(d.login_id, d.device_id, d.ip, d.first_seen, d.last_seen) for d in mine] == [
        ("L1", "web-1", "10.0.0.5", 100, 400),
        ("L2", "phone", "10.0.0.3", 200, 200),
    ]
    assert await store.last_seen(["alice", "bob", "carol"]) == {"alice": 400, "bob": 50}
    assert await store.prune_devices(100) == 1  # bob's
    assert await store.user_devices("bob") == []

    tokens = storage.tokens
    await tokens.add_refresh_token(RefreshToken("t1", "alice", "L1", 1_000))
    await tokens.add_refresh_token(RefreshToken("t2", "alice", "L1", 5_000))
    await tokens.add_refresh_token(RefreshToken("t3", "alice", "L2", 3_000))
    await tokens.add_refresh_token(RefreshToken("t4", "bob", "L3", 9_000))
    await tokens.revoke_login("L2")
    logins = await store.user_logins("alice")
    assert [(x.login_id, x.first_expires, x.last_expires, x.alive) for x in logins] == [
        ("L1", 1_000, 5_000, True),
        ("L2", 3_000, 3_000, False),
    ]


async def test_list_agrees_with_a_reference_on_every_path(storage: Storage) -> None:
    """700 people in overlapping departments, some disabled or admins, Han and Latin
    names: every path of the SQL list (index walk, members first, whole organisation,
    a search within or over its cap, rare and common flags, two department sets) gives
    what a plain filter-and-sort over the same rows gives."""
    import itertools
    import random

    from semot.domain.org import clean_query

    n = 700
    await storage.org.create_department(Department("top", None, "Top", 0, 1))
    await storage.org.create_department(Department("a", "top", "A", 0, 1))
    await storage.org.create_department(Department("a1", "a", "A1", 0, 1))
    await storage.org.create_department(Department("b", "top", "B", 1, 1))
    await storage.org.create_department(Department("c", None, "C", 1, 1))
    homes = [("a",), ("a1",), ("b",), ("c",), ("top",), ("a", "b"), ()]
    people: list[User] = []
    member: dict[str, set[str]] = {}
    keys: dict[str, SearchKeys] = {}
    for i in range(n):
        name = f"张伟{i}" if i < 640 else f"Name {i}"  # "zhang" spells ~550 in the directory: over the cap
        people.append(
            User(f"u{i:03d}", f"u{i:03d}", name, "x", is_admin=i % 13 == 0, disabled=i % 11 == 0, created_at=i // 4)
        )
    await storage.users.create_users(people)
    rows: list[tuple[str, str, str | None, SearchKeys]] = []
    for i, u in enumerate(people):
        member[u.id] = set(homes[i % 7])
        k = search_keys(u.id, u.username, u.display_name)
        if member[u.id]:
            keys[u.id] = k
        rows.extend((d, u.id, None, k) for d in homes[i % 7])
    await storage.org.put_members(rows, 5)

    def expected(q: UserQuery) -> tuple[list[str], int]:
        found = []
        for u in people:
            if q.text:
                hit = q.text in u.username or q.text in u.display_name.lower()
                k = keys.get(u.id)
                if not hit and q.compact and k is not None:
                    hit = f" {q.compact}" in k.full or f" {q.compact}" in k.initials
                if not hit:
                    continue
            if (q.disabled is not None and u.disabled != q.disabled) or (q.admin is not None and u.is_admin != q.admin):
                continue
            if all(d is None or member[u.id] & d for d in (q.departments, q.scope)):
                found.append(u)
        by_name = q.sort.endswith("username")
        found.sort(key=lambda u: (u.username if by_name else u.created_at, u.id), reverse=q.sort.startswith("-"))
        return [u.id for u in found[q.offset : q.offset + q.limit]], len(found)

    every = frozenset({"top", "a", "a1", "b", "c"})
    grid = list(
        itertools.product(
            [None, "u", "u12", "name", "name 59", "zhang", "zw5", "伟53", "nobody"],
            [None, True, False],
            [None, True, False],
            [None, frozenset({"a", "a1"}), frozenset({"b"}), frozenset({"c"}), every, every - {"c"}],
            [None, every, frozenset({"a", "a1", "b"}), frozenset({"c", "b"}), frozenset()],
            ["-created_at", "created_at", "username", "-username"],
            [0, 7, 90, 590],
            [3, 50, 200],
        )
    )
    broad = [(x, None, None, None, None, "-created_at", 0, 50) for x in (None, "u", "伟", "zhang", "name")]
    for text, disabled, admin, depts, scope, sort, offset, limit in broad + random.Random(12).sample(grid, 220):
        t, c = clean_query(text) if text else (None, None)
        q = UserQuery(t, c or None, disabled, admin, depts, scope, sort, offset, limit)  # type: ignore[arg-type]
        users, total = await storage.user_admin.list_users(q)
        assert ([u.id for u in users], total) == expected(q), q

"""The bulk contact reads of a presence flush and of a wave of connects
(services/presence.py), checked on every backend against the one-user reads."""

from __future__ import annotations

import pytest

from semot.domain.records import User
from semot.storage.base import Storage

pytestmark = pytest.mark.asyncio


async def test_contact_sets_and_settings_in_bulk(storage: Storage) -> None:
    for uid in ("ann", "bob", "cid", "dan"):
        await storage.users.create_user(User(id=uid, username=uid, display_name=uid, password_hash="x", created_at=1))
    c = storage.contacts
    await c.add_friendship("ann", "bob", 1)
    await c.add_friendship("ann", "cid", 2)
    await c.block("ann", "dan", 3)
    await c.block("bob", "ann", 4)
    await c.set_user_settings("bob", {"presence": "busy", "status_text": "在开会"})
    users = ["ann", "bob", "cid", "dan", "nobody"]
    sets = await c.contact_sets(users)
    assert sets == {
        "ann": ({"bob", "cid"}, {"dan"}), "bob": ({"ann"}, {"ann"}), "cid": ({"ann"}, set()),
        "dan": (set(), set()), "nobody": (set(), set()),
    }
    for u in users:  # the same as the one-user reads
        assert sets[u] == (await c.friend_ids(u), {b.user_id for b in await c.blacklist(u)})
    assert await c.contact_sets(["ann", "bob"], friends=False) == {"ann": (set(), {"dan"}), "bob": (set(), {"ann"})}
    assert await c.contact_sets([]) == {}
    got = await c.user_settings_many(users)
    assert got == {u: await c.user_settings(u) for u in users}
    assert got["bob"] == {"presence": "busy", "status_text": "在开会"} and got["nobody"] == {}


async def test_bulk_reads_past_one_in_list(storage: Storage) -> None:
    await storage.users.create_user(User(id="u0", username="u0", display_name="u0", password_hash="x", created_at=1))
    await storage.contacts.set_user_settings("u0", {"presence": "away"})
    many = [f"u{i}" for i in range(1203)]  # three chunks of up to 500, the last padded
    sets = await storage.contacts.contact_sets(many)
    assert len(sets) == 1203 and all(v == (set(), set()) for v in sets.values())
    got = await storage.contacts.user_settings_many(many)
    assert len(got) == 1203 and got["u0"] == {"presence": "away"} and got["u1202"] == {}

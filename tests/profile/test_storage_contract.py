"""The storage methods of profiles on every backend (memory, SQLite, PostgreSQL): name
and avatar, password hash, and ending every login of a user but one."""

from __future__ import annotations

from semot.domain.records import RefreshToken, User
from semot.storage.base import Storage
from tests.contract.conftest import storage  # noqa: F401 - the backends fixture

FAR = 10**13


async def test_profile_password_and_other_logins(storage: Storage) -> None:
    await storage.users.create_user(User("alice", "alice", "Alice", "h0", created_at=1))
    assert await storage.users.set_user_profile("alice", display_name="Al", avatar_file_id="f1")
    got = await storage.users.get_user("alice")
    assert got is not None and (got.display_name, got.avatar_file_id) == ("Al", "f1")
    assert [u.avatar_file_id for u in await storage.users.users_by_ids(["alice"])] == ["f1"]
    assert await storage.users.set_user_profile("alice", display_name="Al", avatar_file_id=None)
    got = await storage.users.get_user("alice")
    assert got is not None and got.avatar_file_id is None
    assert not await storage.users.set_user_profile("ghost", display_name="x", avatar_file_id=None)
    assert await storage.users.set_password_hash("alice", "h1")
    got = await storage.users.get_user("alice")
    assert got is not None and got.password_hash == "h1"

    tokens = storage.tokens
    for i, family in enumerate(("mine", "phone", "tablet", "dead")):
        await tokens.add_refresh_token(RefreshToken(f"t{i}", "alice", family, FAR))
    await tokens.add_refresh_token(RefreshToken("b0", "bob", "bobs", FAR))
    await tokens.revoke_login("dead")
    ended = await tokens.revoke_other_logins("alice", "mine")
    assert sorted(ended) == ["phone", "tablet"]  # the dead one was over already
    assert await tokens.login_alive("alice", "mine")
    assert not await tokens.login_alive("alice", "phone") and not await tokens.login_alive("alice", "tablet")
    assert await tokens.login_alive("bob", "bobs")  # nobody else's
    assert await tokens.revoke_other_logins("alice", "mine") == []

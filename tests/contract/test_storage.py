"""The storage contract: what services rely on, checked on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from semot.domain.conversations import direct_conv
from semot.domain.records import AppendResult, Group, NewMessage, RefreshToken, User
from semot.errors import Conflict, NotFound
from semot.ids import new_mid
from semot.storage.base import Storage
from tests.contract.conftest import sql_parts

pytestmark = pytest.mark.asyncio


def user(uid: str) -> User:
    return User(id=uid, username=uid, display_name=uid.title(), password_hash="x", created_at=1)


def dm(sender: str, to: str, cid: str, text: str = "hi", ts: int = 1000, **opts: int) -> NewMessage:
    conv = direct_conv(sender, to)
    users = tuple(sorted((sender, to)))
    return NewMessage(conv, sender, cid, "text", {"text": text}, dict(opts), ts, new_mid(), users)  # type: ignore[arg-type]


async def test_users_create_get_conflict(storage: Storage) -> None:
    await storage.users.create_user(user("alice"))
    got = await storage.users.get_user("alice")
    assert got is not None and got.display_name == "Alice" and not got.disabled
    assert (await storage.users.get_user_by_username("alice")) == got
    assert await storage.users.get_user("nobody") is None
    with pytest.raises(Conflict):
        await storage.users.create_user(user("alice"))
    assert await storage.users.existing_user_ids(["alice", "bob"]) == {"alice"}
    assert await storage.users.set_user_disabled("alice", True)
    assert (await storage.users.get_user("alice")).disabled  # type: ignore[union-attr]
    assert not await storage.users.set_user_disabled("nobody", True)


async def test_refresh_token_rotation_and_reuse_revokes_family(storage: Storage) -> None:
    await storage.tokens.add_refresh_token(RefreshToken("h1", "alice", "fam", 10**13))
    first = await storage.tokens.consume_refresh_token("h1", 5)
    assert first is not None and first.used_at is None and not first.revoked
    await storage.tokens.add_refresh_token(RefreshToken("h2", "alice", "fam", 10**13))
    replay = await storage.tokens.consume_refresh_token("h1", 6)
    assert replay is not None and replay.used_at == 5  # reuse is visible to the caller
    second = await storage.tokens.consume_refresh_token("h2", 7)
    assert second is not None and second.revoked  # the whole family died with the replay
    assert await storage.tokens.consume_refresh_token("nope", 8) is None


async def test_append_assigns_gap_free_seq_and_creates_direct_conv(storage: Storage) -> None:
    batch = [dm("alice", "bob", f"c{i}", text=f"m{i}") for i in range(5)]
    results = await storage.messages.append_messages(batch)
    assert all(isinstance(r, AppendResult) and r.created for r in results)
    assert [r.message.seq for r in results] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    more = await storage.messages.append_messages([dm("bob", "alice", "b1")])
    assert more[0].message.seq == 6  # type: ignore[union-attr]
    conv = direct_conv("alice", "bob")
    assert await storage.messages.conversation_max_seq(conv) == 6
    assert sorted(await storage.messages.conv_members(conv)) == ["alice", "bob"]
    assert await storage.messages.is_member(conv, "bob") and not await storage.messages.is_member(conv, "carol")


async def test_cid_is_idempotent_across_batches_and_within_one(storage: Storage) -> None:
    first = await storage.messages.append_messages([dm("alice", "bob", "same", text="one")])
    again = await storage.messages.append_messages([dm("alice", "bob", "same", text="two"), dm("alice", "bob", "other")])
    assert isinstance(again[0], AppendResult) and not again[0].created
    assert again[0].message.seq == first[0].message.seq and again[0].message.mid == first[0].message.mid  # type: ignore[union-attr]
    assert again[0].message.body == {"text": "one"}
    assert again[1].message.seq == 2  # type: ignore[union-attr]
    twice = await storage.messages.append_messages([dm("carol", "dave", "x"), dm("carol", "dave", "x")])
    assert twice[0].created and not twice[1].created  # type: ignore[union-attr]
    assert twice[0].message.seq == twice[1].message.seq == 1  # type: ignore[union-attr]
    # the same cid from another sender is another message
    other = await storage.messages.append_messages([dm("bob", "alice", "same")])
    assert other[0].created and other[0].message.seq == 3  # type: ignore[union-attr]


async def test_concurrent_appends_never_gap_or_duplicate(storage: Storage) -> None:
    async def sender(i: int) -> list[int]:
        seqs = []
        for j in range(20):
            r = await storage.messages.append_messages([dm(f"u{i}", "hub", f"{i}-{j}")])
            seqs.append(r[0].message.seq)  # type: ignore[union-attr]
        return seqs

    # five senders, five conversations with "hub" and one shared group conversation
    group = Group("g1", "G", "hub", 1)
    await storage.groups.create_group(group, [f"u{i}" for i in range(5)], 1)

    async def group_sender(i: int) -> list[int]:
        out = []
        for j in range(20):
            item = NewMessage("g:g1", f"u{i}", f"g{i}-{j}", "text", {"text": "x"}, {}, 1, new_mid())
            out.append((await storage.messages.append_messages([item]))[0].message.seq)  # type: ignore[union-attr]
        return out

    results = await asyncio.gather(*(group_sender(i) for i in range(5)), *(sender(i) for i in range(5)))
    group_seqs = sorted(s for r in results[:5] for s in r)
    assert group_seqs == list(range(1, 101))
    for r in results[5:]:
        assert r == list(range(1, 21))


async def test_append_to_missing_group_fails_only_that_message(storage: Storage) -> None:
    missing = NewMessage("g:nope", "alice", "c1", "text", {"text": "x"}, {}, 1, new_mid())
    results = await storage.messages.append_messages([missing, dm("alice", "bob", "c2")])
    assert isinstance(results[0], NotFound)
    assert isinstance(results[1], AppendResult) and results[1].message.seq == 1


async def test_history_pages_both_ways(storage: Storage) -> None:
    await storage.messages.append_messages([dm("alice", "bob", f"c{i}", text=str(i)) for i in range(1, 11)])
    conv = direct_conv("alice", "bob")
    msgs, more = await storage.messages.history(conv, after=0, before=None, limit=4)
    assert [m.seq for m in msgs] == [1, 2, 3, 4] and more
    msgs, more = await storage.messages.history(conv, after=8, before=None, limit=4)
    assert [m.seq for m in msgs] == [9, 10] and not more
    msgs, more = await storage.messages.history(conv, after=None, before=5, limit=3)
    assert [m.seq for m in msgs] == [2, 3, 4] and more
    msgs, more = await storage.messages.history(conv, after=None, before=3, limit=5)
    assert [m.seq for m in msgs] == [1, 2] and not more
    msgs, more = await storage.messages.history(conv, after=None, before=None, limit=3)
    assert [m.seq for m in msgs] == [8, 9, 10] and more
    assert msgs[0].body == {"text": "8"} and msgs[0].sender == "alice"
    assert await storage.messages.history("d:x:y", after=0, before=None, limit=5) == ([], False)


async def test_sync_reports_moved_conversations_with_unread(storage: Storage) -> None:
    await storage.messages.append_messages([dm("alice", "bob", "a1"), dm("alice", "bob", "a2"), dm("bob", "alice", "b1")])
    await storage.messages.append_messages([dm("carol", "bob", "c1")])
    states = {s.conv: s for s in await storage.messages.sync("bob", {})}
    ab, bc = direct_conv("alice", "bob"), direct_conv("bob", "carol")
    assert set(states) == {ab, bc}
    assert states[ab].max_seq == 3 and states[ab].unread == 2 and states[ab].read_seq == 0
    assert states[ab].last is not None and states[ab].last.seq == 3 and states[ab].last.sender == "bob"
    # only conversations that moved past what the client knows
    assert [s.conv for s in await storage.messages.sync("bob", {ab: 3, bc: 0})] == [bc]
    assert await storage.messages.sync("bob", {ab: 3, bc: 1}) == []
    read = await storage.messages.set_read(ab, "bob", 2, 50)
    assert (read.previous, read.current) == (0, 2)
    assert (await storage.messages.set_read(ab, "bob", 1, 51)).current == 2  # never moves back
    states = {s.conv: s for s in await storage.messages.sync("bob", {})}
    assert states[ab].read_seq == 2 and states[ab].unread == 0
    with pytest.raises(NotFound):
        await storage.messages.set_read(ab, "carol", 1, 52)


async def test_recall_replaces_body_with_tombstone(storage: Storage) -> None:
    await storage.messages.append_messages([dm("alice", "bob", "a1", text="secret")])
    conv = direct_conv("alice", "bob")
    await storage.messages.recall(conv, 1)
    msg = await storage.messages.get_message(conv, 1)
    assert msg is not None and msg.kind == "recalled" and msg.body == {} and msg.seq == 1


async def test_burn_is_scheduled_by_the_recipients_read_only(storage: Storage) -> None:
    await storage.messages.append_messages(
        [dm("alice", "bob", "a1", burn_s=5), dm("alice", "bob", "a2"), dm("bob", "alice", "b1", burn_s=5)]
    )
    conv = direct_conv("alice", "bob")
    # alice reading her own burn message schedules nothing; bob's read schedules seq 1 only
    assert (await storage.messages.set_read(conv, "alice", 1, 1000)).burns == []
    read = await storage.messages.set_read(conv, "bob", 3, 1000)
    assert read.burns == [(1, 6000)]
    assert await storage.messages.claim_due_burns(5999, 10) == []
    assert await storage.messages.claim_due_burns(6000, 10) == [(conv, 1)]
    assert await storage.messages.claim_due_burns(7000, 10) == []  # claimed once
    burned = await storage.messages.get_message(conv, 1)
    assert burned is not None and burned.kind == "burned" and burned.body == {}
    assert (await storage.messages.get_message(conv, 2)).body == {"text": "hi"}  # type: ignore[union-attr]


async def test_groups(storage: Storage) -> None:
    for u in ("owner", "m1", "m2"):
        await storage.users.create_user(user(u))
    await storage.groups.create_group(Group("team", "Team", "owner", 5, {"k": 1}), ["m1", "m2", "owner"], 5)
    g = await storage.groups.get_group("team")
    assert g is not None and g.name == "Team" and g.owner_id == "owner" and g.settings == {"k": 1}
    assert sorted(await storage.messages.conv_members("g:team")) == ["m1", "m2", "owner"]
    assert await storage.groups.get_group("none") is None
    assert await storage.messages.conv_members("g:none") == []
    states = await storage.messages.sync("m1", {})
    assert [(s.conv, s.max_seq, s.last) for s in states] == [("g:team", 0, None)]


async def test_migrate_is_idempotent(storage: Storage) -> None:
    await storage.migrate()
    await storage.ping()


async def test_group_management_storage(storage: Storage) -> None:
    from semot.domain.records import GroupRequest
    from semot.errors import BadRequest

    await storage.groups.create_group(Group("club", "Club", "own", 1, {"join": "approval"}, "project"), ["m1", "m2"], 1)
    state = await storage.groups.group_state("club")
    assert state is not None and state.group.kind == "project" and state.group.settings == {"join": "approval"}
    assert {u: m.role for u, m in state.members.items()} == {"own": "owner", "m1": "member", "m2": "member"}
    assert await storage.groups.group_state("nope") is None

    assert await storage.groups.add_members("club", ["m2", "m3", "m4"], 5, limit=10) == ["m3", "m4"]
    with pytest.raises(BadRequest):
        await storage.groups.add_members("club", ["m5", "m6"], 5, limit=6)
    assert [m.user_id for m in await storage.groups.group_members("club", after=None, limit=3)] == ["m1", "m2", "m3"]
    assert [m.user_id for m in await storage.groups.group_members("club", after="m3", limit=3)] == ["m4", "own"]

    assert await storage.groups.set_member("club", "m1", role="admin", muted_until=None)
    assert await storage.groups.set_member("club", "m2", muted_until=99)
    assert not await storage.groups.set_member("club", "ghost", role="admin")
    assert await storage.groups.remove_member("club", "m4") and not await storage.groups.remove_member("club", "m4")
    await storage.groups.transfer_ownership("club", "own", "m1")
    state = await storage.groups.group_state("club")
    assert state is not None and state.group.owner_id == "m1"
    assert state.members["m1"].role == "owner" and state.members["own"].role == "admin"
    assert state.members["m2"].muted_until == 99 and "m4" not in state.members
    with pytest.raises(BadRequest):
        await storage.groups.transfer_ownership("club", "m1", "ghost")

    await storage.groups.update_group("club", name="Club 2", settings={"join": "open"}, announcement="hi", dismissed_at=7)
    g = await storage.groups.get_group("club")
    assert g is not None and (g.name, g.settings, g.announcement, g.dismissed_at) == ("Club 2", {"join": "open"}, "hi", 7)
    assert [(gr.id, role) for gr, role in await storage.groups.user_groups("own")] == [("club", "admin")]

    await storage.groups.add_group_request(GroupRequest("r1", "club", "x", None, "let me in", "pending", 3))
    await storage.groups.add_group_request(GroupRequest("r2", "club", "y", "m1", "", "pending", 4))
    assert [r.id for r in await storage.groups.group_requests("club")] == ["r1", "r2"]
    assert await storage.groups.close_group_request("r1", "accepted", "m1", 9)
    assert not await storage.groups.close_group_request("r1", "declined", "m1", 10)  # settled once
    r1 = await storage.groups.get_group_request("r1")
    assert r1 is not None and (r1.status, r1.handled_by, r1.handled_at, r1.message) == ("accepted", "m1", 9, "let me in")
    assert [r.id for r in await storage.groups.group_requests("club")] == ["r2"]


async def test_search_groups_by_name_part(storage: Storage) -> None:
    await storage.groups.create_group(Group("g1", "Rust Club", "a", 1), ["b", "c"], 1)
    await storage.groups.create_group(Group("g2", "rusty_50%", "a", 2), [], 2)
    await storage.groups.create_group(Group("g3", "Go Club", "a", 3), [], 3)
    await storage.groups.create_group(Group("g4", "RUST gone", "a", 4), [], 4)
    await storage.groups.create_group(Group("g5", "研发 Rust 群", "a", 5), ["b"], 5)
    await storage.groups.create_group(Group("g6", "Rust lunch", "a", 6, {}, "temporary"), [], 6)  # not searchable
    await storage.groups.create_group(Group("g7", "Проект Ärger", "a", 7), [], 7)
    await storage.groups.update_group("g4", dismissed_at=9)

    async def ids(q: str, limit: int = 10) -> list[str]:
        return [g.id for g, _ in await storage.groups.search_groups(q, limit=limit)]

    found = await storage.groups.search_groups("rust", limit=10)
    assert [(g.id, n) for g, n in found] == [("g5", 2), ("g2", 1), ("g1", 3)]  # newest first, listed only
    assert await ids("rust", 1) == ["g5"]
    assert await ids("_50%") == ["g2"]
    assert await ids("y%5") == []  # wildcards are literal
    assert await ids("研发") == ["g5"]
    assert await ids("проект") == await ids("ÄRGER") == ["g7"]  # case folds beyond ASCII, on SQLite too
    # the listing follows the settings, renames and dismissal
    await storage.groups.update_group("g6", settings={"searchable": True})
    await storage.groups.update_group("g1", name="Crab Club", settings={"join": "closed"})
    assert await ids("rust") == ["g6", "g5", "g2"]
    await storage.groups.update_group("g1", settings={"join": "open"})
    assert await ids("crab") == ["g1"]


async def test_profiles_lookup_and_logout_revocation(storage: Storage) -> None:
    for u in ("alice", "bob"):
        await storage.users.create_user(user(u))
    assert sorted(u.id for u in await storage.users.users_by_ids(["bob", "alice", "ghost", "bob"])) == ["alice", "bob"]
    await storage.tokens.add_refresh_token(RefreshToken("h1", "alice", "fam", 10**13))
    await storage.tokens.add_refresh_token(RefreshToken("h2", "alice", "fam", 10**13))
    assert await storage.tokens.revoke_token_family("h1", "bob") == "alice"  # not bob's: nothing revoked
    assert not (await storage.tokens.consume_refresh_token("h2", 1)).revoked  # type: ignore[union-attr]
    assert await storage.tokens.revoke_token_family("h1", "alice") == "alice"
    assert (await storage.tokens.consume_refresh_token("h1", 2)).revoked  # type: ignore[union-attr]
    assert await storage.tokens.revoke_token_family("nope", "alice") is None


async def test_migrations_build_exactly_the_schema(sql_store: Storage) -> None:
    """The migrations and schema.py must describe the same tables, columns and indexes."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from semot.storage.sql.schema import metadata
    from semot.storage.sql.schema_search import UNMANAGED_PREFIXES  # FTS5 / tsvector tables (migration 0019)

    def diff(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(sync_conn, opts={"compare_server_default": False})
        return [
            d for d in compare_metadata(ctx, metadata)
            if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")
            and not (isinstance(d, tuple) and d[0] in ("remove_table", "remove_index") and str(d[1].name).startswith(UNMANAGED_PREFIXES))
        ]

    db, _ = sql_parts(sql_store)
    async with db.engines.write.connect() as conn:
        assert await conn.run_sync(diff) == []

"""Group management over a real server: every action, its permission rules, the
`system` message it leaves in history and the `evt group` it pushes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("groups") / "data", {"SEMOT_MAX_GROUP_MEMBERS": "6"}).start()
    yield srv
    srv.kill()


class Member:
    """A connected user that records the group events and messages it receives."""

    def __init__(self, client: SemotClient) -> None:
        self.c = client
        self.events: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        client.on_event(self.events.append)
        client.on_message(self.messages.append)

    @property
    def id(self) -> str:
        assert self.c.user_id is not None
        return self.c.user_id

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        return await self.c.http(method, path, body)

    async def changes(self, kind: str, n: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e["change"] for e in self.events if e.get("evt") == "group" and e["change"]["type"] == kind]
            if len(found) >= n:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.id} got no {kind!r} group event: {self.events}")

    async def notices(self, conv: str, kind: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m["body"] for m in self.messages if m["conv"] == conv and m["kind"] == "system" and m["body"]["type"] == kind]
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.id} has no {kind!r} notice in {conv}")


@pytest.fixture
async def people(server: ServerProcess) -> AsyncIterator[list[Member]]:
    tag = uuid.uuid4().hex[:6]
    out = []
    for name in ("owner", "admin", "bob", "carol", "dave"):
        c = SemotClient(server.base)
        await c.register(f"{name}{tag}", "password123")
        await c.login(f"{name}{tag}", "password123")
        await c.connect()
        out.append(Member(c))
    yield out
    for m in out:
        await m.c.close()


async def expect_error(code: str, coro: Any) -> SemotAPIError:
    with pytest.raises(SemotAPIError) as info:
        await coro
    assert info.value.code == code, info.value
    return info.value


async def make_group(owner: Member, members: list[Member], **extra: Any) -> tuple[str, str]:
    g = await owner.api("POST", "/api/v1/groups", {"name": "Team", "members": [m.id for m in members], **extra})
    return g["group_id"], g["conv"]


async def test_roles_kick_leave_and_history_explains_itself(people: list[Member]) -> None:
    owner, admin, bob, carol, _dave = people
    gid, conv = await make_group(owner, [admin, bob, carol])
    base = f"/api/v1/groups/{gid}"

    await expect_error("forbidden", bob.api("PUT", f"{base}/members/{admin.id}/role", {"role": "admin"}))
    await owner.api("PUT", f"{base}/members/{admin.id}/role", {"role": "admin"})
    change = (await bob.changes("role_changed"))[0]
    assert change == {"type": "role_changed", "user": admin.id, "role": "admin", "by": owner.id}
    assert (await bob.notices(conv, "group_role_changed"))[0]["by"] == owner.id

    # an admin removes a member, not another admin or the owner
    await expect_error("forbidden", admin.api("DELETE", f"{base}/members/{owner.id}"))
    await admin.api("DELETE", f"{base}/members/{carol.id}")
    assert (await carol.changes("member_removed"))[0]["user"] == carol.id  # the removed user is told
    await expect_error("forbidden", carol.c.send_text(conv, "still here?"))
    await expect_error("forbidden", carol.api("GET", f"{base}/members"))

    await bob.api("POST", f"{base}/leave")
    assert (await owner.changes("member_left"))[0]["user"] == bob.id
    await expect_error("forbidden", owner.api("POST", f"{base}/leave"))  # owner must transfer first

    page = await owner.api("GET", f"{base}/members?limit=1")
    assert page["total"] == 2 and page["more"] and len(page["members"]) == 1
    rest = await owner.api("GET", f"{base}/members?limit=5&after={page['next']}")
    assert {m["user_id"] for m in page["members"] + rest["members"]} == {owner.id, admin.id}
    roles = {m["user_id"]: m["role"] for m in page["members"] + rest["members"]}
    assert roles == {owner.id: "owner", admin.id: "admin"}

    history = await owner.c.history(conv, after=0)
    kinds = [m["body"]["type"] for m in history["messages"] if m["kind"] == "system"]
    assert kinds == ["group_created", "group_role_changed", "group_member_removed", "group_member_left"]


async def test_mute_one_and_mute_all(people: list[Member]) -> None:
    owner, admin, bob, carol, _ = people
    gid, conv = await make_group(owner, [admin, bob, carol])
    base = f"/api/v1/groups/{gid}"
    await owner.api("PUT", f"{base}/members/{admin.id}/role", {"role": "admin"})
    until = int(time.time() * 1000) + 60_000
    await admin.api("PUT", f"{base}/members/{bob.id}/mute", {"until": until})
    err = await expect_error("muted", bob.c.send_text(conv, "hello?"))
    assert "muted" in err.message
    assert (await bob.api("GET", base))["my_muted_until"] == until  # a client can say so before a send
    assert (await carol.api("GET", base))["my_muted_until"] is None
    await carol.c.send_text(conv, "I can talk")
    await expect_error("forbidden", bob.api("PUT", f"{base}/members/{carol.id}/mute", {"until": until}))
    await expect_error("conflict", admin.api("PUT", f"{base}/members/{carol.id}/mute", {"until": 5}))  # past
    await admin.api("PUT", f"{base}/members/{bob.id}/mute", {"until": None})
    await bob.c.send_text(conv, "back")

    await admin.api("PATCH", base, {"settings": {"mute_all": True}})
    assert (await carol.changes("settings_changed"))[0]["settings"] == {"mute_all": True}
    await expect_error("muted", carol.c.send_text(conv, "quiet?"))
    await admin.c.send_text(conv, "admins may speak")
    await owner.c.send_text(conv, "so may the owner")
    await expect_error("forbidden", admin.api("PATCH", base, {"settings": {"join": "open"}}))  # owner only
    await owner.api("PATCH", base, {"settings": {"mute_all": False}})
    await carol.c.send_text(conv, "free again")


async def test_mention_all_is_for_owner_and_admins(people: list[Member]) -> None:
    owner, _, bob, _, _ = people
    _gid, conv = await make_group(owner, [bob])
    await expect_error("forbidden", bob.c.send(conv, "text", {"text": "@all hi", "mention_all": True}))
    ack = await owner.c.send(conv, "text", {"text": "@all meeting", "mention_all": True})
    assert ack["seq"] == 2


async def test_join_policies_and_requests(people: list[Member]) -> None:
    owner, admin, bob, carol, dave = people
    gid, conv = await make_group(owner, [admin])
    base = f"/api/v1/groups/{gid}"
    await owner.api("PUT", f"{base}/members/{admin.id}/role", {"role": "admin"})

    info = await bob.api("GET", base)  # outsiders see enough to ask
    assert info["my_role"] is None and info["settings"] == {"join": "approval"} and info["announcement"] is None
    asked = await bob.api("POST", f"{base}/join", {"message": "I work on this"})
    assert asked == {"joined": False, "request_id": asked["request_id"]}
    assert (await admin.changes("requests_pending"))[0]["count"] == 1
    await expect_error("forbidden", bob.api("GET", f"{base}/requests"))
    pending = (await admin.api("GET", f"{base}/requests"))["requests"]
    assert [(r["user_id"], r["message"], r["inviter"]) for r in pending] == [(bob.id, "I work on this", None)]
    assert (await admin.api("POST", f"{base}/requests/{asked['request_id']}", {"action": "accept"}))["status"] == "accepted"
    await expect_error("conflict", admin.api("POST", f"{base}/requests/{asked['request_id']}", {"action": "decline"}))
    decided = (await bob.changes("request_decided"))[0]
    assert decided["accepted"] is True and decided["user"] == bob.id
    await bob.notices(conv, "group_member_joined")
    await bob.c.send_text(conv, "thanks!")

    # a declined request adds nobody
    second = await carol.api("POST", f"{base}/join", {})
    await owner.api("POST", f"{base}/requests/{second['request_id']}", {"action": "decline"})
    assert (await carol.changes("request_decided"))[0]["accepted"] is False
    await expect_error("forbidden", carol.c.send_text(conv, "let me in"))

    # members' invitations wait for an admin when the policy says so
    await owner.api("PATCH", base, {"settings": {"invite": "approval"}})
    invited = await bob.api("POST", f"{base}/members", {"user_ids": [dave.id]})
    assert invited["added"] == [] and len(invited["pending"]) == 1
    req = (await owner.api("GET", f"{base}/requests"))["requests"][0]
    assert req["inviter"] == bob.id and req["user_id"] == dave.id
    await owner.api("POST", f"{base}/requests/{req['request_id']}", {"action": "accept"})
    await dave.notices(conv, "group_member_joined")

    # open groups take anyone at once; closed ones nobody
    await owner.api("PATCH", base, {"settings": {"join": "open"}})
    assert (await carol.api("POST", f"{base}/join", {}))["joined"] is True
    await expect_error("conflict", carol.api("POST", f"{base}/join", {}))
    await owner.api("PATCH", base, {"settings": {"join": "closed"}})
    await carol.api("POST", f"{base}/leave")
    await expect_error("forbidden", carol.api("POST", f"{base}/join", {}))


async def test_member_limit(people: list[Member], server: ServerProcess) -> None:
    owner, admin, bob, carol, dave = people
    gid, _ = await make_group(owner, [admin, bob, carol, dave])  # 5 of SEMOT_MAX_GROUP_MEMBERS=6
    extra = SemotClient(server.base)
    x, y = (f"u{uuid.uuid4().hex[:6]}" for _ in range(2))
    for u in (x, y):
        await extra.register(u, "password123")
    await extra.close()
    members = f"/api/v1/groups/{gid}/members"
    await expect_error("bad_request", owner.api("POST", members, {"user_ids": [x, y]}))  # nobody added
    assert (await owner.api("POST", members, {"user_ids": [x]}))["added"] == [x]
    await expect_error("not_found", owner.api("POST", members, {"user_ids": ["ghost-user"]}))


async def test_announcement_transfer_and_dismiss(people: list[Member]) -> None:
    owner, admin, bob, _, _ = people
    gid, conv = await make_group(owner, [admin, bob])
    base = f"/api/v1/groups/{gid}"
    await expect_error("forbidden", bob.api("PATCH", base, {"announcement": "hi all"}))
    updated = await owner.api("PATCH", base, {"announcement": "Release on Friday", "name": "Release team"})
    assert updated["announcement"] == "Release on Friday" and updated["name"] == "Release team"
    assert (await bob.changes("announcement"))[0]["text"] == "Release on Friday"
    assert (await bob.notices(conv, "group_announcement"))[0]["text"] == "Release on Friday"
    assert (await bob.changes("renamed"))[0]["name"] == "Release team"

    await expect_error("forbidden", admin.api("POST", f"{base}/transfer", {"user_id": bob.id}))
    await owner.api("POST", f"{base}/transfer", {"user_id": bob.id})
    assert (await admin.changes("owner_transferred"))[0]["user"] == bob.id
    info = await owner.api("GET", base)
    assert info["owner"] == bob.id and info["my_role"] == "admin"
    await owner.api("POST", f"{base}/leave")  # the former owner may leave now

    await expect_error("forbidden", admin.api("DELETE", base))
    # a device reloading the group the moment the event arrives must see it dismissed:
    # the event goes out only after the dismissal is stored
    reloaded: list[asyncio.Task[Any]] = []
    admin.c.on_event(
        lambda e: reloaded.append(asyncio.get_running_loop().create_task(admin.api("GET", base)))
        if e.get("evt") == "group" and e["change"]["type"] == "dismissed"
        else None
    )
    await bob.api("DELETE", base)
    assert (await admin.changes("dismissed"))[0]["by"] == bob.id
    assert reloaded and (await reloaded[0])["dismissed"] is True
    await admin.notices(conv, "group_dismissed")
    await expect_error("forbidden", admin.c.send_text(conv, "anyone?"))
    await expect_error("forbidden", bob.api("POST", f"{base}/members", {"user_ids": [owner.id]}))
    assert (await admin.api("GET", base))["dismissed"] is True
    assert len((await admin.c.history(conv, after=0))["messages"]) >= 4  # history stays readable
    mine = {g["group_id"]: g for g in (await admin.api("GET", "/api/v1/groups"))["groups"]}
    assert mine[gid]["dismissed"] is True and mine[gid]["my_role"] == "member"


async def test_department_preset(people: list[Member]) -> None:
    owner, _, bob, carol, _ = people
    gid, _ = await make_group(owner, [bob], type="department")
    base = f"/api/v1/groups/{gid}"
    info = await bob.api("GET", base)
    assert info["type"] == "department" and info["settings"]["invite"] == "admin"
    await expect_error("forbidden", bob.api("POST", f"{base}/members", {"user_ids": [carol.id]}))
    await expect_error("forbidden", bob.api("POST", f"{base}/leave"))
    await expect_error("forbidden", carol.api("POST", f"{base}/join", {}))
    assert (await owner.api("POST", f"{base}/members", {"user_ids": [carol.id]}))["added"] == [carol.id]
    await expect_error("bad_request", owner.api("POST", "/api/v1/groups", {"name": "x", "type": "club"}))


async def test_large_groups_get_no_read_receipts_but_keep_read_positions(tmp_path: Any) -> None:
    """Receipts stop above read_receipts_max_group members (500 by default; 2 here)."""
    srv = ServerProcess(tmp_path / "data", {"SEMOT_READ_RECEIPTS_MAX_GROUP": "2"}).start()
    members: list[Member] = []
    try:
        for name in ("owner", "bob", "carol"):
            c = SemotClient(srv.base)
            await c.register(name, "password123")
            await c.login(name, "password123")
            await c.connect()
            members.append(Member(c))
        owner, bob, carol = members
        gid, conv = await make_group(owner, [bob])  # 2 members: receipts on
        ack = await owner.c.send_text(conv, "small group")
        await bob.c.read(conv, ack["seq"])
        deadline = time.monotonic() + 5
        while not any(e.get("evt") == "read" for e in owner.events) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert any(e.get("evt") == "read" and e["user"] == bob.id for e in owner.events)

        await owner.api("POST", f"/api/v1/groups/{gid}/members", {"user_ids": [carol.id]})  # now 3 > 2
        owner.events.clear()
        ack = await owner.c.send_text(conv, "bigger group")
        await bob.c.read(conv, ack["seq"])
        await asyncio.sleep(0.5)
        assert not any(e.get("evt") == "read" for e in owner.events)
        state = {s["conv"]: s for s in await bob.c.sync({})}[conv]
        assert state["read_seq"] == ack["seq"] and state["unread"] == 0  # still kept per member
    finally:
        for m in members:
            await m.c.close()
        srv.kill()


async def test_group_search_finds_what_outsiders_may_join(people: list[Member]) -> None:
    owner, admin, bob, carol, _dave = people
    tag = uuid.uuid4().hex[:8]
    public, _ = await make_group(owner, [admin], name=f"Rust {tag} 100%_club")
    private, _ = await make_group(owner, [], name=f"Rust {tag} private", type="temporary")
    dept, _ = await make_group(owner, [], name=f"Rust {tag} dept", type="department")

    async def search(who: Member, q: str, **params: Any) -> list[dict[str, Any]]:
        from urllib.parse import urlencode

        return (await who.api("GET", "/api/v1/groups/search?" + urlencode({"q": q, **params})))["groups"]

    # by name: only searchable groups that take joiners, case-insensitively
    found = await search(bob, f"rust {tag}")
    assert [g["group_id"] for g in found] == [public]
    assert found[0] == {
        "group_id": public, "conv": f"g:{public}", "name": f"Rust {tag} 100%_club", "type": "project",
        "member_count": 2, "join": "approval", "my_role": None, "avatar_url": None,
    }
    assert (await search(admin, tag))[0]["my_role"] == "member"
    # LIKE wildcards in the query are literal text
    assert [g["group_id"] for g in await search(bob, f"{tag} 100%_")] == [public]
    assert await search(bob, f"{tag} 1%0") == []
    # by exact id: any group that takes joiners, searchable or not; never a closed one
    assert [g["group_id"] for g in await search(bob, private)] == [private]
    assert await search(bob, dept) == []

    # the owner turns search on for the temporary group and off for the project group
    await owner.api("PATCH", f"/api/v1/groups/{private}", {"settings": {"searchable": True}})
    await owner.api("PATCH", f"/api/v1/groups/{public}", {"settings": {"searchable": False}})
    assert [g["group_id"] for g in await search(bob, f"rust {tag}")] == [private]
    info = await owner.api("GET", f"/api/v1/groups/{public}")
    assert info["settings"]["searchable"] is False
    # admins may not change it (a policy), and bad values are refused
    await owner.api("PUT", f"/api/v1/groups/{public}/members/{admin.id}/role", {"role": "admin"})
    await expect_error("forbidden", admin.api("PATCH", f"/api/v1/groups/{public}", {"settings": {"searchable": True}}))
    await expect_error("bad_request", owner.api("PATCH", f"/api/v1/groups/{public}", {"settings": {"searchable": "yes"}}))

    # found -> joined (through the SDK): the temporary group is open
    assert [g["group_id"] for g in await carol.c.search_groups(private)] == [private]
    joined = await carol.c.join_group(private, "hello")
    assert joined == {"joined": True, "request_id": None}
    assert (await search(carol, private))[0]["my_role"] == "member"

    # dismissed groups vanish; bad queries get clear errors
    await owner.api("DELETE", f"/api/v1/groups/{private}")
    assert await search(bob, private) == []
    await expect_error("bad_request", search(bob, "   "))
    await expect_error("bad_request", search(bob, "x" * 129))
    await expect_error("bad_request", search(bob, "rust", limit=51))

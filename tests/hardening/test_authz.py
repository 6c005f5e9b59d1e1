"""Authorisation gaps (issue 8, section 3), each played as the attack over real HTTP and
WebSocket connections against `semot serve`.

Blacklist bypass: a user blocked by X could put X in a group (create or invite) and
reach X there, and X saw their `typing`. Now group creation leaves X out (the reply says
so), an invitation of X is refused with `blocked`, and typing is refused like a send.

Closed groups: anyone who knew a closed group's id read its name, owner and size. Now a
non-member sees only the join policy (and `dismissed`); the name, type and size only
when group search would show them for that id; never the owner or the announcement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.hardening.http_support import (
    Account,
    Api,
    Clients,
    ServerProcess,
    assert_log_clean,
    start_backend,
)
from tests.integration.harness import WS, direct_conv, unique


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from start_backend("sqlite", tmp_path_factory.mktemp("authz") / "data")


@dataclass
class Person:
    account: Account
    ws: WS

    @property
    def id(self) -> str:
        return self.account.user_id


class Cast:
    """X blocked Y; Z is a bystander who may write to X (the barrier for "never")."""

    def __init__(self, server: ServerProcess, api: Api, x: Person, y: Person, z: Person) -> None:
        self.server, self.api, self.x, self.y, self.z = server, api, x, y, z

    async def call(self, who: Person, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.api.call(self.server, method, path, body, token=who.account.access_token)

    async def barrier(self) -> None:
        """Z writes to X and X receives it: whatever was sent before has arrived too."""
        text = unique("barrier")
        await self.z.ws.send_text(self.x.id, text)
        await self.x.ws.wait_for(lambda f: f.get("t") == "msg" and f.get("body", {}).get("text") == text)

    def x_heard_from_y(self) -> list[dict[str, Any]]:
        def from_y(f: dict[str, Any]) -> bool:
            return f.get("from") == self.y.id or f.get("user") == self.y.id or (
                f.get("evt") == "group" and f.get("change", {}).get("by") == self.y.id
            )

        return [f for f in self.x.ws.received if from_y(f) and f.get("t") != "res"]


@pytest.fixture
async def cast(server: ServerProcess, api: Api, clients: Clients) -> Cast:
    people = []
    for prefix in ("x", "y", "z"):
        acc = await api.account(server, prefix)
        people.append(Person(acc, await clients.connect(server, acc)))
    x, y, z = people
    status, body = await api.call(server, "PUT", f"/api/v1/blacklist/{y.id}", token=x.account.access_token)
    assert status == 200, body
    return Cast(server, api, x, y, z)


# --------------------------------------------------------------------------- blacklist


async def test_blocked_user_cannot_put_the_blocker_in_a_new_group(cast: Cast) -> None:
    start = len(cast.server.log_path.read_text(errors="replace"))
    x, y, z = cast.x, cast.y, cast.z
    status, body = await cast.call(y, "POST", "/api/v1/groups", {"name": "trap", "members": [x.id, z.id]})
    assert status == 201, body
    conv = body["conv"]
    status, members = await cast.call(y, "GET", f"/api/v1/groups/{body['group_id']}/members")
    assert sorted(m["user_id"] for m in members["members"]) == sorted([y.id, z.id])
    assert body["skipped"] == [x.id]  # made with the others; the reply says who was left out
    await y.ws.send_text(conv, "you cannot block me here")
    await z.ws.wait_for(lambda f: f.get("t") == "msg" and f.get("conv") == conv and f.get("kind") == "text")
    await cast.barrier()
    assert cast.x_heard_from_y() == []
    assert not [f for f in x.ws.received if f.get("conv") == conv]
    status, mine = await cast.call(x, "GET", "/api/v1/groups")
    assert conv not in [g["conv"] for g in mine["groups"]]
    assert_log_clean(cast.server, start)


async def test_blocked_user_cannot_invite_the_blocker(cast: Cast) -> None:
    x, y, z = cast.x, cast.y, cast.z
    _, g = await cast.call(y, "POST", "/api/v1/groups", {"name": "open door", "members": [z.id]})
    base = f"/api/v1/groups/{g['group_id']}"
    status, body = await cast.call(y, "POST", f"{base}/members", {"user_ids": [x.id]})
    assert status == 403 and body["error"]["code"] == "blocked", body
    assert body["error"]["details"]["users"] == [x.id]
    # with others in the same invitation: nobody is added (the invitation is refused whole)
    status, body = await cast.call(y, "POST", f"{base}/members", {"user_ids": [x.id, cast.z.id]})
    assert status == 403 and body["error"]["code"] == "blocked", body

    # a member's invitation that would wait for an admin is refused the same way
    _, g2 = await cast.call(z, "POST", "/api/v1/groups", {"name": "approval", "members": [y.id]})
    base2 = f"/api/v1/groups/{g2['group_id']}"
    status, _ = await cast.call(z, "PATCH", base2, {"settings": {"invite": "approval"}})
    assert status == 200
    status, body = await cast.call(y, "POST", f"{base2}/members", {"user_ids": [x.id]})
    assert status == 403 and body["error"]["code"] == "blocked", body
    _, pending = await cast.call(z, "GET", f"{base2}/requests")
    assert pending["requests"] == []

    _, members = await cast.call(y, "GET", f"{base}/members")
    assert x.id not in [m["user_id"] for m in members["members"]]
    await cast.barrier()
    assert cast.x_heard_from_y() == []

    # the blocker may still add the blocked user (their choice), and others may add X
    status, body = await cast.call(z, "POST", f"{base2}/members", {"user_ids": [x.id]})
    assert status == 200 and body["added"] == [x.id], body


async def test_typing_from_a_blocked_user_never_reaches_the_blocker(cast: Cast) -> None:
    x, y, z = cast.x, cast.y, cast.z
    assert await y.ws.error("typing", conv=direct_conv(x.id, y.id)) == "blocked"
    await z.ws.call("typing", conv=direct_conv(x.id, z.id))  # the control: typing works otherwise
    await x.ws.wait_for(lambda f: f.get("evt") == "typing" and f.get("user") == z.id)
    await cast.barrier()
    assert cast.x_heard_from_y() == []
    # the blocker's own typing still reaches the blocked user (blocking is one-way)
    await x.ws.call("typing", conv=direct_conv(x.id, y.id))
    await y.ws.wait_for(lambda f: f.get("evt") == "typing" and f.get("user") == x.id)


async def test_blocks_already_hold_for_messages_cards_requests_and_presence(cast: Cast) -> None:
    """The other ways to reach the blocker, checked so they stay closed."""
    x, y = cast.x, cast.y
    assert await y.ws.error("send", cid=unique("c"), to=x.id, kind="text", body={"text": "hi"}) == "blocked"
    card = {"user_id": y.id}
    assert await y.ws.error("send", cid=unique("c"), to=x.id, kind="card", body=card) == "blocked"
    status, body = await cast.call(y, "POST", "/api/v1/friends/requests", {"user_id": x.id})
    assert status == 403 and body["error"]["code"] == "blocked", body
    status, body = await cast.call(y, "GET", f"/api/v1/presence?users={x.id}")
    assert status == 200 and body["users"] == []
    data = await y.ws.call("presence_sub", users=[x.id])
    assert data["users"] == []
    await cast.barrier()
    assert cast.x_heard_from_y() == []


# --------------------------------------------------------------------------- closed groups


async def test_outsiders_do_not_read_a_closed_group(server: ServerProcess, api: Api) -> None:
    owner, member, outsider = await api.accounts(server, 3, "cg")

    async def call(who: Account, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await api.call(server, method, path, body, token=who.access_token)

    status, g = await call(owner, "POST", "/api/v1/groups", {"name": "Board of secrets", "members": [member.user_id], "type": "department"})
    assert status == 201
    gid = g["group_id"]
    base = f"/api/v1/groups/{gid}"
    await call(owner, "PATCH", base, {"announcement": "merger on friday"})

    status, info = await call(outsider, "GET", base)
    assert status == 200
    assert info == {
        "group_id": gid, "conv": f"g:{gid}", "name": None, "owner": None, "type": None,
        "settings": {"join": "closed"}, "announcement": None, "created_at": None, "dismissed": False,
        "member_count": None, "my_role": None, "avatar_url": None,
    }
    status, body = await call(outsider, "GET", f"{base}/members")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await call(outsider, "GET", f"{base}/requests")
    assert status == 403
    status, body = await call(outsider, "GET", f"/api/v1/conversations/g:{gid}/messages")
    assert status == 403
    status, body = await call(outsider, "GET", f"/api/v1/groups/search?q={gid}")
    assert status == 200 and body["groups"] == []
    status, body = await call(outsider, "POST", f"{base}/join", {})
    assert status == 403

    # members still see everything
    status, info = await call(member, "GET", base)
    assert info["name"] == "Board of secrets" and info["owner"] == owner.user_id
    assert info["announcement"] == "merger on friday" and info["member_count"] == 2

    # a group that takes joiners shows what group search shows for its id: still no owner
    await call(owner, "PATCH", base, {"settings": {"join": "approval"}})
    status, info = await call(outsider, "GET", base)
    assert (info["name"], info["type"], info["member_count"]) == ("Board of secrets", "department", 2)
    assert info["owner"] is None and info["announcement"] is None and info["created_at"] is None
    assert info["settings"] == {"join": "approval"}
    status, body = await call(outsider, "GET", f"/api/v1/groups/search?q={gid}")
    assert [x["name"] for x in body["groups"]] == ["Board of secrets"]

    # a former member of a dismissed group learns it is dismissed, nothing more
    await call(owner, "DELETE", f"{base}/members/{member.user_id}")
    await call(owner, "DELETE", base)
    status, info = await call(member, "GET", base)
    assert status == 200 and info["dismissed"] is True and info["name"] is None and info["my_role"] is None

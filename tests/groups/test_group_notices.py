"""What the server tells people about group changes that concern them (issue 11):
the removed member gets the removal notice, owner and admins get the number of join
requests waiting (pushed, and with the group list for a device that was offline), and
an unmute is stored as `until: null` (what clients render as an unmute)."""

from __future__ import annotations

from tests.groups.test_group_management import Member, make_group, people, server  # noqa: F401 (fixtures)


async def test_removed_member_gets_the_notice_as_a_message(people: list[Member]) -> None:
    owner, _, bob, carol, _ = people
    gid, conv = await make_group(owner, [bob, carol])
    await owner.api("DELETE", f"/api/v1/groups/{gid}/members/{bob.id}")
    got = (await bob.notices(conv, "group_member_removed"))[0]
    assert got == {"type": "group_member_removed", "by": owner.id, "user": bob.id}
    assert (await carol.notices(conv, "group_member_removed"))[0] == got
    assert (await bob.changes("member_removed"))[0]["user"] == bob.id
    # leaving: the leaver's other devices are told the same way
    await carol.api("POST", f"/api/v1/groups/{gid}/leave")
    assert (await carol.notices(conv, "group_member_left"))[0]["user"] == carol.id


async def test_pending_requests_count_pushed_and_listed(people: list[Member]) -> None:
    owner, admin, bob, carol, dave = people
    gid, _conv = await make_group(owner, [admin, dave])
    base = f"/api/v1/groups/{gid}"
    await owner.api("PUT", f"{base}/members/{admin.id}/role", {"role": "admin"})
    await bob.api("POST", f"{base}/join", {"message": "hi"})
    first = (await admin.changes("requests_pending"))[0]
    assert first["by"] == bob.id and first["count"] == 1 and first["pending"] == 1
    second = await carol.api("POST", f"{base}/join", {})
    assert (await owner.changes("requests_pending", 2))[1]["pending"] == 2
    assert not [e for e in dave.events if e["change"]["type"] == "requests_pending"]  # members are not told

    def listed(groups: list[dict[str, object]]) -> object:
        return next(g for g in groups if g["group_id"] == gid)["pending_requests"]

    assert listed((await owner.api("GET", "/api/v1/groups"))["groups"]) == 2
    assert listed((await admin.api("GET", "/api/v1/groups"))["groups"]) == 2
    assert listed((await dave.api("GET", "/api/v1/groups"))["groups"]) is None
    assert (await admin.api("GET", base))["pending_requests"] == 2
    assert (await dave.api("GET", base))["pending_requests"] is None

    await admin.api("POST", f"{base}/requests/{second['request_id']}", {"action": "decline"})
    decided = (await owner.changes("request_decided"))[0]
    assert decided["pending"] == 1 and decided["accepted"] is False and decided["user"] == carol.id
    assert (await carol.changes("request_decided"))[0]["pending"] == 1
    assert (await owner.api("GET", base))["pending_requests"] == 1


async def test_unmute_is_stored_with_until_null(people: list[Member]) -> None:
    owner, _, bob, _, _ = people
    gid, conv = await make_group(owner, [bob])
    path = f"/api/v1/groups/{gid}/members/{bob.id}/mute"
    await owner.api("PUT", path, {"until": 4_000_000_000_000})
    await owner.api("PUT", path, {"until": None})
    page = await bob.c.history(conv, after=0, limit=50)
    mutes = [m["body"] for m in page["messages"] if m["body"].get("type") == "group_member_muted"]
    assert [b["until"] for b in mutes] == [4_000_000_000_000, None]

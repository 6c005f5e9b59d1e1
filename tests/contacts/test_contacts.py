"""Contacts over a real server: friend requests and the approval setting, tags,
blacklist, the direct-message policy, and the snapshot + events invariant."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from semot.client import SemotAPIError, SemotClient
from semot.client.contacts import apply_contacts_event, normalise
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("contacts") / "data").start()
    yield srv
    srv.kill()


class Person:
    def __init__(self, client: SemotClient) -> None:
        self.c = client
        self.changes: list[dict[str, Any]] = []
        client.on_event(lambda e: self.changes.append(e["change"]) if e.get("evt") == "contacts" else None)

    @property
    def id(self) -> str:
        assert self.c.user_id is not None
        return self.c.user_id

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        return await self.c.http(method, path, body)


async def connect(server: ServerProcess, n: int) -> list[Person]:
    tag = uuid.uuid4().hex[:6]
    out = []
    for i in range(n):
        c = SemotClient(server.base)
        await c.register(f"p{i}{tag}", "password123", display_name=f"Person {i}")
        await c.login(f"p{i}{tag}", "password123")
        await c.connect()
        out.append(Person(c))
    return out


@pytest.fixture
async def people(server: ServerProcess) -> AsyncIterator[list[Person]]:
    ps = await connect(server, 4)
    yield ps
    for p in ps:
        await p.c.close()


async def expect(code: str, coro: Any) -> None:
    with pytest.raises(SemotAPIError) as info:
        await coro
    assert info.value.code == code, info.value


async def test_requests_need_approval_unless_switched_off(people: list[Person]) -> None:
    a, b, c, _ = people
    r = await a.api("POST", "/api/v1/friends/requests", {"user_id": b.id, "message": "hi, it's A"})
    assert r["status"] == "requested"
    snap_b = await b.api("GET", "/api/v1/contacts")
    assert [(q["from"], q["message"]) for q in snap_b["requests"]["incoming"]] == [(a.id, "hi, it's A")]
    assert (await a.api("POST", "/api/v1/friends/requests", {"user_id": b.id}))["request_id"] == r["request_id"]
    await expect("forbidden", a.api("POST", f"/api/v1/friends/requests/{r['request_id']}", {"action": "accept"}))
    assert (await b.api("POST", f"/api/v1/friends/requests/{r['request_id']}", {"action": "accept"}))["status"] == "accepted"
    assert [f["user_id"] for f in (await a.api("GET", "/api/v1/contacts"))["friends"]] == [b.id]
    assert [f["display_name"] for f in (await b.api("GET", "/api/v1/contacts"))["friends"]] == ["Person 0"]
    await expect("conflict", a.api("POST", "/api/v1/friends/requests", {"user_id": b.id}))
    await expect("conflict", a.api("POST", f"/api/v1/friends/requests/{r['request_id']}", {"action": "decline"}))

    # "anyone can add me"
    assert (await c.api("PATCH", "/api/v1/me/settings", {"friend_approval": False})) == {"friend_approval": False}
    assert (await a.api("POST", "/api/v1/friends/requests", {"user_id": c.id}))["status"] == "friends"
    # crossing requests become a friendship at once
    await c.api("PATCH", "/api/v1/me/settings", {"friend_approval": True})
    await b.api("POST", "/api/v1/friends/requests", {"user_id": c.id})
    assert (await c.api("POST", "/api/v1/friends/requests", {"user_id": b.id}))["status"] == "friends"
    snap_c = await c.api("GET", "/api/v1/contacts")
    assert sorted(f["user_id"] for f in snap_c["friends"]) == sorted([a.id, b.id])
    assert snap_c["requests"] == {"incoming": [], "outgoing": []}

    await a.api("DELETE", f"/api/v1/friends/{b.id}")
    assert [f["user_id"] for f in (await b.api("GET", "/api/v1/contacts"))["friends"]] == [c.id]
    await expect("not_found", a.api("DELETE", f"/api/v1/friends/{b.id}"))
    await expect("forbidden", a.api("POST", "/api/v1/friends/requests", {"user_id": a.id}))
    await expect("not_found", a.api("POST", "/api/v1/friends/requests", {"user_id": "nobody-here"}))
    await expect("bad_request", a.api("PATCH", "/api/v1/me/settings", {"friend_approval": "no"}))


async def test_tags_and_remarks(people: list[Person]) -> None:
    a, b, c, d = people
    for p in (b, c):
        await p.api("PATCH", "/api/v1/me/settings", {"friend_approval": False})
        await a.api("POST", "/api/v1/friends/requests", {"user_id": p.id})
    tag = await a.api("POST", "/api/v1/contacts/tags", {"name": "同事", "members": [b.id]})
    assert tag["members"] == [b.id]
    await expect("conflict", a.api("POST", "/api/v1/contacts/tags", {"name": "同事"}))
    await expect("conflict", a.api("POST", "/api/v1/contacts/tags", {"name": "x", "members": [d.id]}))  # not a friend
    renamed = await a.api("PATCH", f"/api/v1/contacts/tags/{tag['tag_id']}", {"name": "Team", "members": [b.id, c.id]})
    assert renamed["name"] == "Team" and renamed["members"] == sorted([b.id, c.id])
    await expect("not_found", b.api("PATCH", f"/api/v1/contacts/tags/{tag['tag_id']}", {"name": "mine"}))
    friend = await a.api("PATCH", f"/api/v1/friends/{b.id}", {"remark": "Bob from QA"})
    assert friend["remark"] == "Bob from QA"
    await expect("not_found", a.api("PATCH", f"/api/v1/friends/{d.id}", {"remark": "stranger"}))
    # filtering contacts by tag is the tag's member list; removing a friend drops them from it
    await a.api("DELETE", f"/api/v1/friends/{c.id}")
    snap = await a.api("GET", "/api/v1/contacts")
    assert snap["tags"][0]["members"] == [b.id]
    await a.api("DELETE", f"/api/v1/contacts/tags/{tag['tag_id']}")
    assert (await a.api("GET", "/api/v1/contacts"))["tags"] == []


async def test_blacklist_stops_messages_and_requests(people: list[Person]) -> None:
    a, b, _, _ = people
    await a.c.send_text(b.id, "hello before")
    await b.api("PUT", f"/api/v1/blacklist/{a.id}")
    await expect("blocked", a.c.send_text(b.id, "can you hear me?"))
    await expect("blocked", a.api("POST", "/api/v1/friends/requests", {"user_id": b.id}))
    await b.c.send_text(a.id, "I can still write to you")  # blocking is one-way
    assert [x["user_id"] for x in (await b.api("GET", "/api/v1/contacts"))["blacklist"]] == [a.id]
    await b.api("DELETE", f"/api/v1/blacklist/{a.id}")
    await a.c.send_text(b.id, "and now?")
    await expect("not_found", b.api("DELETE", f"/api/v1/blacklist/{a.id}"))
    await expect("forbidden", b.api("PUT", f"/api/v1/blacklist/{b.id}"))


async def test_friends_only_policy(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", {"SEMOT_DIRECT_MESSAGE_POLICY": "friends"}).start()
    try:
        a, b = await connect(srv, 2)
        await expect("forbidden", a.c.send_text(b.id, "hi stranger"))
        r = await a.api("POST", "/api/v1/friends/requests", {"user_id": b.id})
        await b.api("POST", f"/api/v1/friends/requests/{r['request_id']}", {"action": "accept"})
        await a.c.send_text(b.id, "hi friend")
        await b.api("DELETE", f"/api/v1/friends/{a.id}")
        await expect("forbidden", a.c.send_text(b.id, "still friends?"))
        for p in (a, b):
            await p.c.close()
    finally:
        srv.kill()


async def test_snapshot_plus_events_equals_a_fresh_snapshot(people: list[Person]) -> None:
    """Random sequences of every kind of change; each user's snapshot with the pushed
    events applied must equal the snapshot the server returns afterwards."""
    rng = random.Random(20261127)
    start = {p.id: normalise(await p.api("GET", "/api/v1/contacts")) for p in people}
    for p in people:
        p.changes.clear()
    ids = [p.id for p in people]

    async def step() -> None:
        me = rng.choice(people)
        other = rng.choice([i for i in ids if i != me.id])
        snap = await me.api("GET", "/api/v1/contacts")
        friends = [f["user_id"] for f in snap["friends"]]
        action = rng.choice(
            ["request", "request", "accept", "decline", "remove", "remark", "tag", "retag", "untag", "block", "unblock", "settings"]
        )
        try:
            if action == "request":
                await me.api("POST", "/api/v1/friends/requests", {"user_id": other, "message": f"m{rng.random()}"})
            elif action in ("accept", "decline") and snap["requests"]["incoming"]:
                req = rng.choice(snap["requests"]["incoming"])
                await me.api("POST", f"/api/v1/friends/requests/{req['request_id']}", {"action": action})
            elif action == "remove" and friends:
                await me.api("DELETE", f"/api/v1/friends/{rng.choice(friends)}")
            elif action == "remark" and friends:
                await me.api("PATCH", f"/api/v1/friends/{rng.choice(friends)}", {"remark": f"r{rng.randint(0, 9)}"})
            elif action == "tag":
                members = rng.sample(friends, k=min(len(friends), rng.randint(0, 2)))
                await me.api("POST", "/api/v1/contacts/tags", {"name": f"t{rng.randint(0, 5)}", "members": members})
            elif action == "retag" and snap["tags"]:
                tag = rng.choice(snap["tags"])
                members = rng.sample(friends, k=min(len(friends), rng.randint(0, 3)))
                await me.api("PATCH", f"/api/v1/contacts/tags/{tag['tag_id']}", {"members": members})
            elif action == "untag" and snap["tags"]:
                await me.api("DELETE", f"/api/v1/contacts/tags/{rng.choice(snap['tags'])['tag_id']}")
            elif action == "block":
                await me.api("PUT", f"/api/v1/blacklist/{other}")
            elif action == "unblock" and snap["blacklist"]:
                await me.api("DELETE", f"/api/v1/blacklist/{rng.choice(snap['blacklist'])['user_id']}")
            elif action == "settings":
                await me.api("PATCH", "/api/v1/me/settings", {"friend_approval": rng.random() < 0.5})
        except SemotAPIError as exc:
            assert exc.code in ("conflict", "blocked", "bad_request", "not_found"), exc

    for _ in range(120):
        await step()

    for p in people:
        deadline = time.monotonic() + 5
        while True:
            folded = start[p.id]
            for change in p.changes:
                folded = apply_contacts_event(folded, change)
            fresh = normalise(await p.api("GET", "/api/v1/contacts"))
            if folded == fresh or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert folded == fresh, f"{p.id}: events do not rebuild the snapshot"
    assert sum(len(p.changes) for p in people) > 60  # the sequence really changed things

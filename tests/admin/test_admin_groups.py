"""Group administration over a real server (HTTP + WebSocket): an administrator lists and
searches every group, changes one as an operator (members get the same `evt group` and
`system` notices as when the owner does it, marked `by_admin`), transfers ownership,
mutes and removes members, dismisses, and reads history; an auditor reads history but
changes nothing, and every read is in the audit log."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from semot.client import SemotAPIError, SemotClient
from tests.groups.test_group_management import Member, expect_error, make_group
from tests.support.server import ServerProcess

PASSWORD = "password123"
ADMIN_PW = "admin-password-1"
FUTURE = 4_000_000_000_000


@pytest.fixture(scope="module")
def admin_name() -> str:
    return f"gadm{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, admin_name: str) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("admin_groups") / "data"
    srv = ServerProcess(data).start()
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", admin_name, "--password", ADMIN_PW, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=srv.env,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    yield srv
    srv.kill()


@pytest.fixture
async def admin(server: ServerProcess, admin_name: str) -> AsyncIterator[SemotClient]:
    c = SemotClient(server.base)
    await c.login(admin_name, ADMIN_PW)
    yield c
    await c.close()


async def _person(server: ServerProcess, name: str) -> Member:
    c = SemotClient(server.base)
    await c.register(name, PASSWORD, display_name=name.capitalize())
    await c.login(name, PASSWORD)
    await c.connect()
    return Member(c)


@pytest.fixture
async def people(server: ServerProcess) -> AsyncIterator[list[Member]]:
    tag = uuid.uuid4().hex[:6]
    out = [await _person(server, f"{n}{tag}") for n in ("owner", "bob", "carol", "dave")]
    yield out
    for m in out:
        await m.c.close()


def _g(gid: str) -> str:
    return f"/api/admin/v1/groups/{gid}"


async def _audit(admin: SemotClient, action: str, target: str) -> list[dict[str, Any]]:
    """The audit log's entries of one action on one target, newest first (H1's log API)."""
    page = await admin.http("GET", f"/api/admin/v1/audit-log?action={action}&target={target}&limit=50")
    return [e for e in page["entries"] if e["action"] == action and e["target"] == target]


async def test_list_search_filter_and_page(admin: SemotClient, people: list[Member]) -> None:
    owner, bob, carol, _ = people
    tag = uuid.uuid4().hex[:8]
    made = []
    for i in range(3):
        g = await owner.api(
            "POST", "/api/v1/groups", {"name": f"Ops {tag} {i}", "members": [bob.id, carol.id][: i + 1]}
        )
        made.append(g["group_id"])
    dept = await owner.api("POST", "/api/v1/groups", {"name": f"DEPT {tag}", "members": [], "type": "department"})

    page = await admin.http("GET", f"/api/admin/v1/groups?q={tag.upper()}&limit=200")  # case-insensitive
    assert page["total"] == 4
    assert [g["group_id"] for g in page["groups"]] == [dept["group_id"], *reversed(made)]  # newest first
    row = page["groups"][1]
    assert row["member_count"] == 3 and row["owner"] == owner.id and row["owner_name"] == owner.id.capitalize()
    assert row["mute_all"] is False and row["dismissed"] is False and row["type"] == "project"

    assert [g["group_id"] for g in (await admin.http("GET", f"/api/admin/v1/groups?q={made[0]}"))["groups"]] == [
        made[0]
    ]
    only = await admin.http("GET", f"/api/admin/v1/groups?q={tag}&type=department")
    assert only["total"] == 1 and only["groups"][0]["group_id"] == dept["group_id"]
    second = await admin.http("GET", f"/api/admin/v1/groups?q={tag}&offset=1&limit=2")
    assert second["total"] == 4 and [g["group_id"] for g in second["groups"]] == [made[2], made[1]]
    everyone = await admin.http("GET", "/api/admin/v1/groups?limit=1")
    assert everyone["total"] >= 4 and len(everyone["groups"]) == 1

    detail = await admin.http("GET", _g(made[2]))
    assert detail["member_count"] == 3 and detail["admin_count"] == 0 and detail["settings"]["join"] == "approval"
    members = await admin.http("GET", _g(made[2]) + "/members?limit=2")
    assert members["total"] == 3 and members["members"][0]["user_id"] == owner.id
    assert members["members"][0]["role"] == "owner" and members["members"][0]["display_name"] == owner.id.capitalize()
    found = await admin.http("GET", _g(made[2]) + f"/members?q={carol.id[:5].upper()}")
    assert [m["user_id"] for m in found["members"]] == [carol.id]

    # not for members, and not for users: 403
    await expect_error("forbidden", owner.api("GET", "/api/admin/v1/groups"))
    await expect_error("forbidden", owner.api("PATCH", _g(made[0]), {"name": "mine"}))
    await expect_error("not_found", admin.http("GET", _g("no-such-group")))
    await expect_error("bad_request", admin.http("GET", "/api/admin/v1/groups?type=club"))


async def test_admin_changes_reach_members_as_the_owners_would(admin: SemotClient, people: list[Member]) -> None:
    owner, bob, carol, _ = people
    gid, conv = await make_group(owner, [bob, carol])
    me = admin.user_id
    await admin.http("PATCH", _g(gid), {"name": "Renamed by IT", "announcement": "Read the rules", "mute_all": True})

    renamed = (await bob.changes("renamed"))[0]
    assert renamed == {"type": "renamed", "by": me, "by_admin": True, "name": "Renamed by IT"}
    assert (await carol.changes("announcement"))[0]["text"] == "Read the rules"
    assert (await owner.changes("settings_changed"))[0]["settings"] == {"mute_all": True}
    notice = (await bob.notices(conv, "group_renamed"))[0]
    assert notice == {"type": "group_renamed", "by": me, "by_admin": True, "name": "Renamed by IT"}
    await expect_error("muted", bob.c.send_text(conv, "can I talk?"))
    assert (await owner.api("GET", f"/api/v1/groups/{gid}"))["announcement"] == "Read the rules"

    await admin.http("PATCH", _g(gid), {"mute_all": False})
    await bob.c.send_text(conv, "yes")
    await admin.http("PUT", _g(gid) + f"/members/{bob.id}/mute", {"until": FUTURE})
    muted = (await bob.changes("member_muted"))[0]
    assert muted == {"type": "member_muted", "by": me, "by_admin": True, "user": bob.id, "until": FUTURE}
    await expect_error("muted", bob.c.send_text(conv, "and now?"))
    listed = (await admin.http("GET", _g(gid) + "/members"))["members"]
    assert next(m for m in listed if m["user_id"] == bob.id)["muted"] is True
    await admin.http("PUT", _g(gid) + f"/members/{bob.id}/mute", {"until": None})
    assert (await bob.changes("member_muted", 2))[1]["until"] is None
    await bob.c.send_text(conv, "free again")
    await expect_error("conflict", admin.http("PUT", _g(gid) + f"/members/{owner.id}/mute", {"until": FUTURE}))

    await admin.http("DELETE", _g(gid) + f"/members/{carol.id}")
    gone = (await carol.notices(conv, "group_member_removed"))[0]  # the removed member is told, as a message
    assert gone == {"type": "group_member_removed", "by": me, "by_admin": True, "user": carol.id}
    await expect_error("forbidden", carol.c.send_text(conv, "still here?"))
    await expect_error("conflict", admin.http("DELETE", _g(gid) + f"/members/{owner.id}"))  # transfer first
    await expect_error("not_found", admin.http("DELETE", _g(gid) + f"/members/{carol.id}"))

    history = await owner.c.history(conv, after=0)
    kinds = [m["body"]["type"] for m in history["messages"] if m["kind"] == "system"]
    assert kinds[1:] == [
        "group_renamed",
        "group_announcement",
        "group_settings_changed",
        "group_settings_changed",
        "group_member_muted",
        "group_member_muted",
        "group_member_removed",
    ]

    changed = (await _audit(admin, "group.update", gid))[-1]  # the first update
    assert changed["before"] == {"name": "Team", "announcement": None, "mute_all": False}
    assert changed["after"] == {"name": "Renamed by IT", "announcement": "Read the rules", "mute_all": True}
    removed = (await _audit(admin, "group.member_remove", gid))[0]
    assert removed["before"] == {"user_id": carol.id, "role": "member"} and removed["admin"] == me


async def test_ownership_transfer_and_dismiss(admin: SemotClient, people: list[Member]) -> None:
    owner, bob, carol, dave = people
    gid, conv = await make_group(owner, [bob, carol])
    await expect_error("conflict", admin.http("PATCH", _g(gid), {"owner": dave.id}))  # not a member

    detail = await admin.http("PATCH", _g(gid), {"owner": bob.id})
    assert detail["owner"] == bob.id and detail["owner_name"] == bob.id.capitalize() and detail["admin_count"] == 1
    assert (await carol.changes("owner_transferred"))[0] == {
        "type": "owner_transferred",
        "by": admin.user_id,
        "by_admin": True,
        "user": bob.id,
    }
    roles = {m["user_id"]: m["role"] for m in (await admin.http("GET", _g(gid) + "/members"))["members"]}
    assert roles == {bob.id: "owner", owner.id: "admin", carol.id: "member"}
    await owner.api("PATCH", f"/api/v1/groups/{gid}", {"name": "Old owner, still an admin"})  # now an admin
    await expect_error("forbidden", owner.api("DELETE", f"/api/v1/groups/{gid}"))  # but no longer the owner
    transfer = (await _audit(admin, "group.update", gid))[0]
    assert transfer["before"] == {"owner": owner.id} and transfer["after"] == {"owner": bob.id}

    await admin.http("DELETE", _g(gid))
    assert (await carol.changes("dismissed"))[0] == {"type": "dismissed", "by": admin.user_id, "by_admin": True}
    assert (await owner.notices(conv, "group_dismissed"))[0]["by_admin"] is True
    await expect_error("forbidden", bob.c.send_text(conv, "hello?"))
    assert (await bob.api("GET", f"/api/v1/groups/{gid}"))["dismissed"] is True
    detail = await admin.http("GET", _g(gid))
    assert detail["dismissed"] is True and detail["dismissed_at"] is not None
    await expect_error("conflict", admin.http("PATCH", _g(gid), {"name": "revive"}))
    await expect_error("conflict", admin.http("DELETE", _g(gid)))
    dismissed = await admin.http("GET", f"/api/admin/v1/groups?q={gid}&state=dismissed")
    assert [g["group_id"] for g in dismissed["groups"]] == [gid]
    assert (await admin.http("GET", f"/api/admin/v1/groups?q={gid}&state=live"))["total"] == 0
    page = await admin.http("GET", _g(gid) + "/messages")  # history outlives the group
    assert page["messages"][-1]["body"]["type"] == "group_dismissed"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def _auditor(server: ServerProcess, admin: SemotClient) -> SemotClient:
    """A user holding the built-in auditor role (H1's administrators API)."""
    name = f"aud{uuid.uuid4().hex[:6]}"
    c = SemotClient(server.base)
    uid = await c.register(name, PASSWORD)
    await admin.http("PUT", f"/api/admin/v1/admins/{uid}", {"roles": ["auditor"]})
    await c.login(name, PASSWORD)
    return c


async def test_auditor_reads_history_and_changes_nothing(
    server: ServerProcess, admin: SemotClient, people: list[Member], tmp_path: Path
) -> None:
    owner, bob, _, _ = people
    gid, conv = await make_group(owner, [bob])
    for i in range(5):
        await owner.c.send_text(conv, f"<b>line {i}</b>")
    path = tmp_path / "photo.png"
    path.write_bytes(_png())
    await bob.c.send_image(conv, await bob.c.upload(path))
    auditor = await _auditor(server, admin)
    try:
        page = await auditor.http("GET", _g(gid) + "/messages?limit=4")
        assert page["more"] is True and [m["kind"] for m in page["messages"]] == ["text", "text", "text", "image"]
        image = page["messages"][-1]
        assert image["from"] == bob.id and image["body"]["url"].startswith("/api/v1/files/")
        assert page["senders"][owner.id]["display_name"] == owner.id.capitalize()
        older = await auditor.http("GET", _g(gid) + f"/messages?limit=50&before={page['messages'][0]['seq']}")
        assert [m["body"].get("text") for m in older["messages"]][-2:] == ["<b>line 0</b>", "<b>line 1</b>"]
        assert older["more"] is False
        # the signed URL works for the auditor, who is no member
        async with (await auditor._session()).get(server.base + image["body"]["url"]) as resp:
            assert resp.status == 200 and (await resp.read()) == path.read_bytes()

        await expect_error("forbidden", auditor.http("PATCH", _g(gid), {"name": "audited"}))
        await expect_error("forbidden", auditor.http("DELETE", _g(gid)))
        await expect_error("forbidden", auditor.http("DELETE", _g(gid) + f"/members/{bob.id}"))
        await expect_error("forbidden", auditor.http("PUT", _g(gid) + f"/members/{bob.id}/mute", {"until": FUTURE}))
        assert (await auditor.http("GET", _g(gid)))["name"] == "Team"
        with pytest.raises(SemotAPIError):
            await owner.api("GET", _g(gid) + "/messages")

        reads = await _audit(admin, "group.history_read", gid)
        assert [r["admin"] for r in reads] == [auditor.user_id, auditor.user_id]
        assert reads[1]["after"]["count"] == 4 and reads[0]["after"]["before"] == page["messages"][0]["seq"]
    finally:
        await auditor.close()


async def test_listing_stays_fast(admin: SemotClient, people: list[Member]) -> None:
    """A page of the list (with its total and member counts) is one count and two
    small queries: well under the console's budget even on a busy test machine."""
    started = time.perf_counter()
    for _ in range(10):
        await admin.http("GET", "/api/admin/v1/groups?limit=50")
        await admin.http("GET", "/api/admin/v1/groups?q=ops&limit=50")
    assert (time.perf_counter() - started) / 20 < 0.2

"""Pre-moderation over real sockets (PROTOCOL.md §7, docs/moderation.md), on SQLite and
PostgreSQL: a group with `review` on holds members' sends (`pending_review` with the
`mid`), never the owner's or a group admin's; a resend answers from the queue; approval
stores the message with the next seq under its mid and delivers it to every member;
rejection pushes `evt moderation` to the sender; two reviewers racing decide once; the
timeout decides what nobody reviewed; the sender lists their held messages after a reload."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.ws_support import BACKENDS, run_backend
from tests.integration.harness import Account, Api, Clients, ServerProcess, WSError, all_history

ADMIN_PW = "admin-password-1"


@pytest.fixture(scope="module", params=BACKENDS)
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp(f"moderation-{request.param}") / "data"
    for server in run_backend(request.param, data, {"SEMOT_MODERATION_SWEEP_S": "0.2"}):
        server.create_admin("modadmin", ADMIN_PW)
        yield server


async def _admin(api: Api, srv: ServerProcess) -> str:
    status, body = await api.login(srv, "modadmin", ADMIN_PW)
    assert status == 200, body
    return str(body["access_token"])


async def _review_group(api: Api, srv: ServerProcess, owner: Account, members: list[Account]) -> str:
    conv = await api.group(srv, owner, members, name="审核群")
    status, body = await api.call(srv, "PATCH", f"/api/v1/groups/{conv[2:]}", {"settings": {"review": True}},
                                  token=owner.access_token)
    assert status == 200, body
    assert body["settings"]["review"] is True
    return conv


async def _held(ws: Any, conv: str, text: str, cid: str | None = None) -> dict[str, Any]:
    reply = await ws.request("send", cid=cid or uuid.uuid4().hex, to=conv, kind="text", body={"text": text})
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == "pending_review", reply
    assert reply["error"]["mid"].startswith("m_"), reply
    return dict(reply["error"])


def _evt(name: str, **match: Any) -> Any:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name and all(f.get(k) == v for k, v in match.items())


async def test_held_then_approved_is_delivered_with_its_mid(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, bob, carol = await api.accounts(srv, 3, "mod")
    conv = await _review_group(api, srv, owner, [bob, carol])
    wo, wb, wc = [await clients.connect(srv, a) for a in (owner, bob, carol)]
    before = len(await all_history(wo, conv))

    cid = uuid.uuid4().hex
    err = await _held(wb, conv, "请审核这条消息", cid)
    mid = err["mid"]
    # nothing stored, nothing delivered
    assert len(await all_history(wo, conv)) == before
    assert not wc.pushes(lambda f: f.get("t") == "msg" and f.get("mid") == mid)
    # a resend while pending: the same mid, no second queue item
    again = await _held(wb, conv, "请审核这条消息", cid)
    assert again["mid"] == mid
    admin = await _admin(api, srv)
    status, page = await api.call(srv, "GET", f"/api/admin/v1/moderation?status=pending&conv={conv}", token=admin)
    assert status == 200, page
    assert page["total"] == 1
    [item] = page["items"]
    assert {k: item[k] for k in ("mid", "conv", "from", "kind", "body")} == {
        "mid": mid, "conv": conv, "from": bob.user_id, "kind": "text", "body": {"text": "请审核这条消息"}}
    assert item["group_name"] == "审核群" and item["status"] == "pending" and item["ip"]
    # the sender lists it after a reload
    status, mine = await api.call(srv, "GET", "/api/v1/moderation/mine", token=bob.access_token)
    assert status == 200 and [i["mid"] for i in mine["items"]] == [mid] and mine["items"][0]["status"] == "pending"

    status, body = await api.call(srv, "POST", f"/api/admin/v1/moderation/{mid}", {"action": "approve"}, token=admin)
    assert (status, body) == (200, {})
    # delivered as usual, with its mid, to every member (the sender's devices too)
    for ws in (wo, wb, wc):
        m = await ws.wait_for(lambda f: f.get("t") == "msg" and f.get("mid") == mid, 5)
        assert m["seq"] == before + 1 and m["cid"] == cid and m["from"] == bob.user_id
    ok = await wb.wait_for(_evt("moderation", mid=mid), 5)
    assert ok["action"] == "approved" and ok["seq"] == before + 1 and ok["conv"] == conv
    # a resend of the cid now answers with the stored seq
    data = await wb.call("send", cid=cid, to=conv, kind="text", body={"text": "请审核这条消息"})
    assert data["seq"] == before + 1 and data["mid"] == mid
    assert len(await all_history(wo, conv)) == before + 1
    # deciding again is a conflict; the audit log has the approval
    status, body = await api.call(srv, "POST", f"/api/admin/v1/moderation/{mid}", {"action": "reject"}, token=admin)
    assert status == 409 and body["error"]["code"] == "conflict"
    status, log = await api.call(srv, "GET", "/api/admin/v1/audit-log?limit=20", token=admin)
    assert any(e["action"] == "moderation.approve" and e["target"] == conv for e in log["entries"]), log


async def test_rejected_tells_the_sender_and_a_resend_says_so(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, bob = await api.accounts(srv, 2, "mod")
    conv = await _review_group(api, srv, owner, [bob])
    wb = await clients.connect(srv, bob)
    wb2 = await clients.connect(srv, bob, device="bob-laptop")
    cid = uuid.uuid4().hex
    mid = (await _held(wb, conv, "spam spam", cid))["mid"]
    admin = await _admin(api, srv)
    status, body = await api.call(srv, "POST", f"/api/admin/v1/moderation/{mid}",
                                  {"action": "reject", "reason": "广告"}, token=admin)
    assert (status, body) == (200, {})
    for ws in (wb, wb2):  # every device of the sender
        e = await ws.wait_for(_evt("moderation", mid=mid), 5)
        assert e["action"] == "rejected" and e["reason"] == "广告"
    reply = await wb.request("send", cid=cid, to=conv, kind="text", body={"text": "spam spam"})
    assert reply["ok"] is False and reply["error"]["code"] == "blocked", reply
    assert reply["error"]["details"] == {"mid": mid, "reason": "广告", "rejected": True}
    assert await all_history(wb, conv) == [m for m in await all_history(wb, conv) if m["kind"] == "system"]
    status, mine = await api.call(srv, "GET", "/api/v1/moderation/mine", token=bob.access_token)
    assert [(i["mid"], i["status"], i["reason"]) for i in mine["items"]] == [(mid, "rejected", "广告")]


async def test_approving_after_the_sender_left_rejects_instead(srv: ServerProcess, api: Api, clients: Clients) -> None:
    """Nobody may post for a member who is gone: approval turns into a rejection that
    says why (and the sender's devices are told, as for any rejection)."""
    owner, bob = await api.accounts(srv, 2, "modleft")
    conv = await _review_group(api, srv, owner, [bob])
    wb = await clients.connect(srv, bob)
    mid = (await _held(wb, conv, "still there?"))["mid"]
    status, body = await api.call(srv, "DELETE", f"/api/v1/groups/{conv[2:]}/members/{bob.user_id}",
                                  token=owner.access_token)
    assert status == 200, body
    admin = await _admin(api, srv)
    status, body = await api.call(srv, "POST", f"/api/admin/v1/moderation/{mid}", {"action": "approve"}, token=admin)
    assert (status, body) == (200, {})
    e = await wb.wait_for(_evt("moderation", mid=mid), 5)
    assert e["action"] == "rejected" and "no longer a member" in e["reason"]
    wo = await clients.connect(srv, owner)
    assert all(m["kind"] == "system" for m in await all_history(wo, conv))
    status, listed = await api.call(srv, "GET", "/api/admin/v1/moderation?status=rejected", token=admin)
    assert mid in [i["mid"] for i in listed["items"]]


async def test_owner_and_admins_are_not_held_and_admin_api_toggles(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, boss, bob = await api.accounts(srv, 3, "mod")
    conv = await _review_group(api, srv, owner, [boss, bob])
    status, body = await api.call(srv, "PUT", f"/api/v1/groups/{conv[2:]}/members/{boss.user_id}/role",
                                  {"role": "admin"}, token=owner.access_token)
    assert status in (200, 204), body
    wo, wa, wb = [await clients.connect(srv, a) for a in (owner, boss, bob)]
    assert (await wo.send_text(conv, "owner speaks"))["seq"] > 0
    assert (await wa.send_text(conv, "admin speaks"))["seq"] > 0
    await _held(wb, conv, "member waits")
    # a group admin may not change the policy; the owner (and the console) may
    status, body = await api.call(srv, "PATCH", f"/api/v1/groups/{conv[2:]}", {"settings": {"review": False}},
                                  token=boss.access_token)
    assert status == 403, body
    admin = await _admin(api, srv)
    status, body = await api.call(srv, "PATCH", f"/api/admin/v1/groups/{conv[2:]}", {"review": False}, token=admin)
    assert status == 200 and body["settings"]["review"] is False, body
    change = await wb.wait_for(lambda f: f.get("evt") == "group" and f["change"].get("type") == "settings_changed"
                               and f["change"]["settings"] == {"review": False}, 5)
    assert change["change"]["by_admin"] is True
    assert (await wb.send_text(conv, "free again"))["seq"] > 0
    status, log = await api.call(srv, "GET", "/api/admin/v1/audit-log?limit=20", token=admin)
    assert any(e["action"] == "group.update" and e["target"] == conv[2:] for e in log["entries"]), log


async def test_two_reviewers_at_once_decide_exactly_once(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, bob, carol = await api.accounts(srv, 3, "mod")
    conv = await _review_group(api, srv, owner, [bob, carol])
    wb, wc = [await clients.connect(srv, a) for a in (bob, carol)]
    mids = [(await _held(wb, conv, f"race {i}"))["mid"] for i in range(5)]
    admin = await _admin(api, srv)

    async def approve(mid: str) -> int:
        status, _ = await api.call(srv, "POST", f"/api/admin/v1/moderation/{mid}", {"action": "approve"}, token=admin)
        return status

    async def bulk() -> tuple[int, Any]:
        return await api.call(srv, "POST", "/api/admin/v1/moderation", {"mids": mids, "action": "approve"}, token=admin)

    results = await asyncio.gather(*(approve(m) for m in mids), *(approve(m) for m in mids), bulk())
    singles = list(results[:10])
    status, body = results[10]  # type: ignore[misc]
    assert status == 200
    for i, m in enumerate(mids):
        winners = [singles[i] == 200, singles[i + 5] == 200, m in body["decided"]]
        assert winners.count(True) == 1, (m, singles[i], singles[i + 5], body)
        assert {singles[i], singles[i + 5]} <= {200, 409}
    await asyncio.sleep(0.5)
    stored = [m for m in await all_history(wc, conv) if m["kind"] == "text"]
    assert sorted(m["mid"] for m in stored) == sorted(mids)  # each stored once
    got = [f for f in wc.pushes(lambda f: f.get("t") == "msg" and f.get("conv") == conv) if f["kind"] == "text"]
    assert sorted(f["mid"] for f in got) == sorted(mids)  # delivered once each


async def test_timeout_decides_what_nobody_reviewed(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, bob = await api.accounts(srv, 2, "mod")
    conv = await _review_group(api, srv, owner, [bob])
    wo, wb = [await clients.connect(srv, a) for a in (owner, bob)]
    admin = await _admin(api, srv)
    try:
        status, body = await api.call(srv, "PUT", "/api/admin/v1/moderation/settings",
                                      {"timeout_s": 1, "timeout_action": "approve"}, token=admin)
        assert status == 200 and body["timeout_s"] == 1 and body["updated_by"] == "modadmin", body
        mid = (await _held(wb, conv, "wait a second"))["mid"]
        m = await wo.wait_for(lambda f: f.get("t") == "msg" and f.get("mid") == mid, 8)
        assert m["body"] == {"text": "wait a second"}
        e = await wb.wait_for(_evt("moderation", mid=mid), 5)
        assert e["action"] == "approved" and e["reason"] == "timeout"
        status, page = await api.call(srv, "GET", f"/api/admin/v1/moderation?status=approved&conv={conv}", token=admin)
        assert page["items"][0]["reviewer"] == "system"

        status, body = await api.call(srv, "PUT", "/api/admin/v1/moderation/settings",
                                      {"timeout_s": 1, "timeout_action": "reject"}, token=admin)
        mid = (await _held(wb, conv, "too late"))["mid"]
        e = await wb.wait_for(_evt("moderation", mid=mid), 8)
        assert e["action"] == "rejected" and e["reason"] == "timeout"
    finally:
        status, body = await api.call(srv, "PUT", "/api/admin/v1/moderation/settings",
                                      {"timeout_s": 0, "timeout_action": "reject"}, token=admin)
        assert status == 200, body


async def test_bad_input_and_permissions(srv: ServerProcess, api: Api, clients: Clients) -> None:
    owner, bob = await api.accounts(srv, 2, "mod")
    admin = await _admin(api, srv)
    for body in ({"action": "maybe"}, {"action": "reject", "reason": "x" * 501}, {}, {"action": "approve", "x": 1}):
        status, reply = await api.call(srv, "POST", "/api/admin/v1/moderation/m_nothing", body, token=admin)
        assert status == 400 and reply["error"]["code"] == "bad_request", (body, reply)
    status, reply = await api.call(srv, "POST", "/api/admin/v1/moderation/m_nothing", {"action": "approve"}, token=admin)
    assert status == 404 and reply["error"]["code"] == "not_found"
    status, reply = await api.call(srv, "POST", "/api/admin/v1/moderation", {"mids": [], "action": "approve"}, token=admin)
    assert status == 400
    status, reply = await api.call(srv, "GET", "/api/admin/v1/moderation?status=bogus", token=admin)
    assert status == 400
    status, reply = await api.call(srv, "PUT", "/api/admin/v1/moderation/settings",
                                   {"timeout_s": -1, "timeout_action": "approve"}, token=admin)
    assert status == 400
    status, reply = await api.call(srv, "GET", "/api/admin/v1/moderation", token=bob.access_token)
    assert status == 403
    try:
        await (await clients.connect(srv, owner)).call("send", cid="x", to="g:nosuchgroup", kind="text", body={"text": "x"})
    except WSError as exc:
        assert exc.code in ("not_found", "forbidden")

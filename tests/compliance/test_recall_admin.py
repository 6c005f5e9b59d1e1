"""Admin recall and group managers' recall over real HTTP and WebSocket (PROTOCOL.md §7,
docs/protocol.md "Recall by group managers and administrators"), on SQLite and PostgreSQL.

An administrator with messages.recall recalls any message at any time: the members
online get `evt recall` with `by` = the administrator (and `role` admin), the stored
message becomes a tombstone with `recalled_by` / `recalled_role` in `history` and in
`sync`'s `last`, and a device that was offline learns it from the `system` notice.
Group owners recall anyone's message, group admins plain members' (not the owner's or
another admin's), at any time; plain members only their own, within the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import Account, Api, Clients, ServerProcess, direct_conv, unique

A = "/api/admin/v1"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_RECALL_WINDOW_S": "1"}  # a plain sender's window: 1 s
    for srv in run_backend(request.param, tmp_path_factory.mktemp("recall") / "data", env):
        yield srv
        assert_clean_log(srv)


async def admin(server: ServerProcess, api: Api) -> Account:
    name = unique("adm")
    await asyncio.to_thread(server.create_admin, name)
    status, body = await api.login(server, name)
    assert status == 200, body
    return Account(body["user_id"], "", body["access_token"], body["refresh_token"])


async def recall_http(api: Api, server: ServerProcess, who: Account, conv: str, seq: int) -> tuple[int, Any]:
    return await api.call(server, "POST", f"{A}/conversations/{conv}/messages/{seq}/recall", token=who.access_token)


def tomb(msgs: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    return next(m for m in msgs if m["seq"] == seq)


async def test_admin_recall_reaches_online_and_offline_devices(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    alice, bob = await api.accounts(server, 2, "rc")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    conv = direct_conv(alice.user_id, bob.user_id)
    ack = await wa.send_text(bob.user_id, "an old secret")
    await wb.wait_for(lambda f: f.get("t") == "msg" and f.get("seq") == ack["seq"])
    # bob's second device is offline during the recall; it syncs afterwards
    known = {conv: ack["seq"]}

    status, body = await recall_http(api, server, boss, conv, ack["seq"])
    assert (status, body) == (200, {})
    for ws in (wa, wb):
        evt = await ws.wait_for(lambda f: f.get("evt") == "recall" and f.get("seq") == ack["seq"])
        assert evt == {"t": "evt", "evt": "recall", "conv": conv, "seq": ack["seq"], "by": boss.user_id, "role": "admin"}

    page = await wa.call("history", conv=conv, after=0, limit=50)
    t = tomb(page["messages"], ack["seq"])
    assert t["kind"] == "recalled" and t["body"] == {}
    assert t["recalled_by"] == boss.user_id and t["recalled_role"] == "admin"
    assert t["from"] == alice.user_id  # the sender stays the sender

    late = await clients.connect(server, bob)
    state = await late.call("sync", convs=known)
    conv_state = next(c for c in state["convs"] if c["conv"] == conv)
    notice = conv_state["last"]
    assert notice["kind"] == "system"
    assert notice["body"] == {"type": "recalled", "seq": ack["seq"], "by": boss.user_id, "role": "admin"}
    fresh = await late.call("history", conv=conv, after=0, limit=50)
    assert tomb(fresh["messages"], ack["seq"])["recalled_role"] == "admin"

    # again: nothing changes, still {}; an unknown message is 404, a system notice 409
    assert await recall_http(api, server, boss, conv, ack["seq"]) == (200, {})
    assert (await recall_http(api, server, boss, conv, 999))[0] == 404
    assert (await recall_http(api, server, boss, conv, notice["seq"]))[0] == 409
    status, log = await api.call(server, "GET", f"{A}/audit-log?action=message.recall&admin={boss.user_id}",
                                 token=boss.access_token)
    assert status == 200 and log["total"] == 1 and log["entries"][0]["target"] == f"{conv}#{ack['seq']}"


async def test_admin_recall_needs_the_permission(server: ServerProcess, api: Api, clients: Clients) -> None:
    boss = await admin(server, api)
    alice, bob, auditor = await api.accounts(server, 3, "rp")
    wa = await clients.connect(server, alice)
    ack = await wa.send_text(bob.user_id, "keep me")
    conv = direct_conv(alice.user_id, bob.user_id)
    # a plain user, and an administrator whose role lacks messages.recall
    assert (await recall_http(api, server, alice, conv, ack["seq"]))[0] == 403
    status, body = await api.call(server, "PUT", f"{A}/admins/{auditor.user_id}", {"roles": ["auditor"]},
                                  token=boss.access_token)
    assert status == 200, body
    status, body = await recall_http(api, server, auditor, conv, ack["seq"])
    assert status == 403 and body["error"]["code"] == "forbidden"
    page = await wa.call("history", conv=conv, after=0, limit=10)
    assert tomb(page["messages"], ack["seq"])["kind"] == "text"


async def test_group_owner_and_admin_recall_rules(server: ServerProcess, api: Api, clients: Clients) -> None:
    owner, adm, adm2, member = await api.accounts(server, 4, "gr")
    conv = await api.group(server, owner, [adm, adm2, member])
    gid = conv[2:]
    for who in (adm, adm2):
        status, body = await api.call(server, "PUT", f"/api/v1/groups/{gid}/members/{who.user_id}/role",
                                      {"role": "admin"}, token=owner.access_token)
        assert status == 200, body
    wo, wa, wa2, wm = [await clients.connect(server, x) for x in (owner, adm, adm2, member)]
    m1 = await wm.send_text(conv, "member says")
    m2 = await wm.send_text(conv, "member again")
    a2 = await wa2.send_text(conv, "other admin says")
    o1 = await wo.send_text(conv, "owner says")
    mine = await wm.send_text(conv, "my own")
    await asyncio.sleep(1.2)  # beyond the 1 s window of a plain sender

    # a member: not others' messages, and not their own past the window
    assert await wm.error("recall", conv=conv, seq=m1["seq"]) == "forbidden"
    assert await wm.error("recall", conv=conv, seq=o1["seq"]) == "forbidden"
    assert await wm.error("recall", conv=conv, seq=mine["seq"]) == "forbidden"
    # a group admin: a member's message at any time, not the owner's or another admin's
    await wa.call("recall", conv=conv, seq=m1["seq"])
    evt = await wm.wait_for(lambda f: f.get("evt") == "recall" and f.get("seq") == m1["seq"])
    assert evt["by"] == adm.user_id and evt["role"] == "group_admin"
    assert await wa.error("recall", conv=conv, seq=o1["seq"]) == "forbidden"
    assert await wa.error("recall", conv=conv, seq=a2["seq"]) == "forbidden"
    # the owner: anyone's, the other admin's too
    await wo.call("recall", conv=conv, seq=a2["seq"])
    await wo.call("recall", conv=conv, seq=m2["seq"])

    msgs = (await wm.call("history", conv=conv, after=0, limit=100))["messages"]
    assert {k: tomb(msgs, m1["seq"])[k] for k in ("kind", "recalled_by", "recalled_role")} == {
        "kind": "recalled", "recalled_by": adm.user_id, "recalled_role": "group_admin"}
    assert tomb(msgs, a2["seq"])["recalled_by"] == owner.user_id
    assert tomb(msgs, m2["seq"])["recalled_role"] == "group_admin"
    assert tomb(msgs, o1["seq"])["kind"] == "text" and "recalled_by" not in tomb(msgs, o1["seq"])
    notices = [m["body"] for m in msgs if m["kind"] == "system" and m["body"].get("type") == "recalled"]
    assert {"type": "recalled", "seq": m1["seq"], "by": adm.user_id, "role": "group_admin"} in notices


async def test_a_senders_own_recall_is_marked_sender(server: ServerProcess, api: Api, clients: Clients) -> None:
    alice, bob = await api.accounts(server, 2, "rs")
    wa, wb = await clients.connect(server, alice), await clients.connect(server, bob)
    ack = await wa.send_text(bob.user_id, "oops")
    await wa.call("recall", conv=ack["conv"], seq=ack["seq"])
    evt = await wb.wait_for(lambda f: f.get("evt") == "recall" and f.get("seq") == ack["seq"])
    assert evt == {"t": "evt", "evt": "recall", "conv": ack["conv"], "seq": ack["seq"], "by": alice.user_id}
    msgs = (await wb.call("history", conv=ack["conv"], after=0, limit=10))["messages"]
    t = tomb(msgs, ack["seq"])
    assert (t["recalled_by"], t["recalled_role"]) == (alice.user_id, "sender")
    notice = msgs[-1]
    assert notice["body"] == {"type": "recalled", "seq": ack["seq"], "by": alice.user_id}  # as before: no role

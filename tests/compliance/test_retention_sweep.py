"""Retention end to end (docs/retention.md): a real server on SQLite and on PostgreSQL,
real WebSocket clients and tus uploads, the admin API.

Messages are aged by moving their `ts` back in the database (what 40 days of waiting
would do), then `POST /api/admin/v1/retention/run` sweeps in batches of 2 (the test's
retention_batch_size): old messages go, held users' and conversations' stay, a file only
a deleted message referenced is removed, one still referenced stays; `history` returns
what is left with a right `more`, and `sync` keeps max_seq.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from tests.files.test_file_messages import upload
from tests.hardening.ws_support import BACKENDS, PG_URL, assert_clean_log, run_backend
from tests.integration.harness import Account, Api, Clients, ServerProcess, direct_conv, unique

A = "/api/admin/v1"
DAY = 86_400_000


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_RETENTION_BATCH_SIZE": "2", "SEMOT_FILE_GC_GRACE_S": "0"}
    for srv in run_backend(request.param, tmp_path_factory.mktemp("retention") / "data", env):
        yield srv
        assert_clean_log(srv)


async def admin(server: ServerProcess, api: Api) -> Account:
    name = unique("adm")
    await asyncio.to_thread(server.create_admin, name)
    status, body = await api.login(server, name)
    assert status == 200, body
    return Account(body["user_id"], "", body["access_token"], body["refresh_token"])


async def age(server: ServerProcess, mids: list[str], days: int) -> None:
    """Move these messages `days` into the past, in the database itself."""
    schema = server.env.get("SEMOT_DATABASE_SCHEMA")
    if schema is None:
        with sqlite3.connect(server.data_dir / "semot.db") as con:
            con.executemany("UPDATE messages SET ts = ts - ? WHERE mid = ?", [(days * DAY, m) for m in mids])
        return
    pg = await asyncpg.connect(PG_URL, server_settings={"search_path": schema})
    try:
        await pg.executemany("UPDATE messages SET ts = ts - $1 WHERE mid = $2", [(days * DAY, m) for m in mids])
    finally:
        await pg.close()


async def ok(api: Api, server: ServerProcess, who: Account, method: str, path: str, body: Any = None) -> Any:
    status, reply = await api.call(server, method, path, body, token=who.access_token)
    assert status == 200, (method, path, status, reply)
    return reply


async def test_the_sweep_deletes_old_messages_and_spares_held_ones(
    server: ServerProcess, api: Api, clients: Clients
) -> None:
    boss = await admin(server, api)
    alice, bob, hank = await api.accounts(server, 3, "rt")
    wa, wb, wh = [await clients.connect(server, x) for x in (alice, bob, hank)]
    ab, ah = direct_conv(alice.user_id, bob.user_id), direct_conv(alice.user_id, hank.user_id)
    gone_file = await upload(server, alice, b"only in an old message\n" * 4, "old.txt")
    kept_file = await upload(server, alice, b"also in a new message\n" * 4, "kept.txt")

    old: list[dict[str, Any]] = [await wa.send_text(bob.user_id, f"old {i}") for i in range(4)]
    for fid in (gone_file, kept_file):
        old.append(await wa.call("send", cid=uuid.uuid4().hex, to=bob.user_id, kind="file", body={"file_id": fid}))
    held_direct = await wa.send_text(hank.user_id, "hank's chat: on hold")
    team = await api.group(server, alice, [bob])
    kept_group = await api.group(server, alice, [bob], "kept")
    old_team = [await wb.send_text(team, f"team {i}") for i in range(3)]
    held_group = await wb.send_text(kept_group, "held group")
    await age(server, [m["mid"] for m in [*old, held_direct, *old_team, held_group]], 40)
    # the group notices (created) are old too: every message of the groups but the held one goes
    recent = await wb.send_text(alice.user_id, "recent")
    also_kept = await wb.call("send", cid=uuid.uuid4().hex, to=alice.user_id, kind="file", body={"file_id": kept_file})

    view = await ok(api, server, boss, "GET", f"{A}/retention")
    assert view["enabled"] is False and view["last_run"]["started_at"] is None and view["batch_size"] == 2
    assert (await ok(api, server, boss, "POST", f"{A}/retention/run"))["deleted"] == 0  # off: nothing goes
    view = await ok(api, server, boss, "PUT", f"{A}/retention", {"direct_days": 30, "group_days": 30})
    assert view["enabled"] and (view["direct_days"], view["group_days"]) == (30, 30)
    hold_user = await ok(api, server, boss, "POST", f"{A}/legal-holds", {"kind": "user", "target": hank.user_id,
                                                                       "reason": "case 12"})
    hold_conv = await ok(api, server, boss, "POST", f"{A}/legal-holds", {"kind": "conv", "target": kept_group})
    holds = await ok(api, server, boss, "GET", f"{A}/legal-holds")
    assert {h["hold_id"] for h in holds["holds"]} >= {hold_user["hold_id"], hold_conv["hold_id"]}

    run = await ok(api, server, boss, "POST", f"{A}/retention/run")
    assert run["deleted"] == 6 + 3 + 0 and run["error"] is None  # 6 in a-b, 3 in the team (its notice is new)
    last = (await ok(api, server, boss, "GET", f"{A}/retention"))["last_run"]
    assert last["deleted"] == run["deleted"] and last["finished_at"] >= last["started_at"]

    # what is left, and history pages over the holes without looping
    page = await wa.call("history", conv=ab, after=0, limit=1)
    assert [m["seq"] for m in page["messages"]] == [recent["seq"]] and page["more"] is True
    page = await wa.call("history", conv=ab, after=recent["seq"], limit=5)
    assert [m["seq"] for m in page["messages"]] == [also_kept["seq"]] and page["more"] is False
    page = await wa.call("history", conv=ab, before=recent["seq"], limit=50)
    assert page == {"messages": [], "more": False}
    page = await wa.call("history", conv=ab, after=2, limit=50)
    assert [m["seq"] for m in page["messages"]] == [recent["seq"], also_kept["seq"]] and page["more"] is False
    state = await wa.call("sync", convs={})
    assert next(c for c in state["convs"] if c["conv"] == ab)["max_seq"] == also_kept["seq"]
    # held: hank's chat and the held group
    assert [m["seq"] for m in (await wh.call("history", conv=ah, after=0, limit=5))["messages"]] == [held_direct["seq"]]
    texts = [m["body"].get("text") for m in (await wb.call("history", conv=kept_group, after=0, limit=50))["messages"]]
    assert "held group" in texts
    team_left = (await wb.call("history", conv=team, after=0, limit=50))["messages"]
    assert all(m["kind"] == "system" for m in team_left)
    # files: the one no message references any more is gone, the other stays
    assert (await api.call(server, "GET", f"/api/v1/files/{gone_file}/info", token=alice.access_token))[0] == 404
    assert (await api.call(server, "GET", f"/api/v1/files/{kept_file}/info", token=alice.access_token))[0] == 200

    # the hold lifted: hank's old chat goes at the next sweep
    assert await ok(api, server, boss, "DELETE", f"{A}/legal-holds/{hold_user['hold_id']}") == {"status": "removed"}
    assert (await api.call(server, "DELETE", f"{A}/legal-holds/{hold_user['hold_id']}", token=boss.access_token))[0] == 404
    assert (await ok(api, server, boss, "POST", f"{A}/retention/run"))["deleted"] == 1
    assert (await wh.call("history", conv=ah, after=0, limit=5))["messages"] == []
    log = await ok(api, server, boss, "GET", f"{A}/audit-log?admin={boss.user_id}")
    actions = {e["action"] for e in log["entries"]}
    assert {"retention.update", "retention.run", "legal_hold.add", "legal_hold.remove"} <= actions
    await ok(api, server, boss, "PUT", f"{A}/retention", {"direct_days": 0, "group_days": None})  # off again
    await ok(api, server, boss, "DELETE", f"{A}/legal-holds/{hold_conv['hold_id']}")


async def test_retention_permissions_and_bad_input(server: ServerProcess, api: Api) -> None:
    boss = await admin(server, api)
    auditor, plain = await api.accounts(server, 2, "rq")
    await ok(api, server, boss, "PUT", f"{A}/admins/{auditor.user_id}", {"roles": ["auditor"]})
    assert (await api.call(server, "GET", f"{A}/retention", token=auditor.access_token))[0] == 200  # retention.view
    for method, path, body in (
        ("PUT", f"{A}/retention", {"direct_days": 1}),
        ("POST", f"{A}/retention/run", None),
        ("POST", f"{A}/legal-holds", {"kind": "user", "target": plain.user_id}),
    ):
        assert (await api.call(server, method, path, body, token=auditor.access_token))[0] == 403
        assert (await api.call(server, method, path, body, token=plain.access_token))[0] == 403
    for bad in ({"direct_days": -1}, {"group_days": 40000}, {"direct_days": "7"}, {"nope": 1}):
        status, reply = await api.call(server, "PUT", f"{A}/retention", bad, token=boss.access_token)
        assert status == 400 and reply["error"]["code"] == "bad_request", bad
    status, reply = await api.call(server, "POST", f"{A}/legal-holds", {"kind": "user", "target": "nobody_x"},
                                   token=boss.access_token)
    assert status == 404
    status, reply = await api.call(server, "POST", f"{A}/legal-holds", {"kind": "conv", "target": "g:nothing"},
                                   token=boss.access_token)
    assert status == 404
    status, reply = await api.call(server, "POST", f"{A}/legal-holds", {"kind": "team", "target": "x"},
                                   token=boss.access_token)
    assert status == 400

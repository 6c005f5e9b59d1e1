"""Edits and reactions (docs/protocol.md, "Edits and reactions") over real sockets,
on SQLite and on PostgreSQL: the edit window and the rules, pushes to online devices,
a device offline meanwhile catching up through `sync` (its change cursors) and
`changes` without unread inflating, history pages complete on their own, recall
dropping reactions, and the Python SDK's `edit` / `react` / `changes`."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from semot.client import SemotClient
from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv

PG_URL = os.environ.get("SEMOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
EDIT_WINDOW_S = 3


def _pg_problem() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_EDIT_WINDOW_S": str(EDIT_WINDOW_S), "SEMOT_MAX_REACTIONS_PER_MESSAGE": "3"}
    if request.param == "postgresql":
        problem = _pg_problem()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL unreachable in CI: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        env |= {"SEMOT_DATABASE_URL": PG_URL, "SEMOT_DATABASE_SCHEMA": f"semot_edits_{uuid.uuid4().hex[:10]}"}
    server = ServerProcess(tmp_path_factory.mktemp(f"edits-{request.param}") / "data", env)
    server.start()
    yield server
    assert server.stop() == 0, server.log_tail()


def is_evt(name: str, conv: str) -> Any:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name and f.get("conv") == conv


async def test_offline_device_catches_up_without_unread_inflating(srv: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(srv, 2)
    conv = direct_conv(a.user_id, b.user_id)
    wa = await clients.connect(srv, a)
    b1 = await clients.connect(srv, b, device="b-phone")
    first = await wa.send_text(b.user_id, "helo")
    second = await wa.send_text(b.user_id, "second")
    # b's laptop syncs once, keeps its cursors, and goes offline
    b2 = await clients.connect(srv, b, device="b-laptop")
    [state] = (await b2.call("sync", convs={}, changes={}))["convs"]
    assert state["max_seq"] == 2 and state["change_seq"] == 0 and state["unread"] == 2
    await b2.close()

    edit = await wa.call("edit", conv=conv, seq=first["seq"], text="hello")
    assert edit["changed"] and edit["change_seq"] == 1 and edit["edited_ts"] >= first["ts"]
    evt = await b1.wait_for(is_evt("edit", conv))
    assert evt["body"] == {"text": "hello"} and evt["by"] == a.user_id and evt["change_seq"] == 1
    r = await b1.call("react", conv=conv, seq=first["seq"], emoji="👍")
    assert r["reactions"] == [{"emoji": "👍", "count": 1, "users": [b.user_id]}] and r["change_seq"] == 2
    evt = await wa.wait_for(is_evt("reaction", conv))
    assert evt["user"] == b.user_id and evt["on"] is True and evt["reactions"] == r["reactions"]
    await wa.call("react", conv=conv, seq=second["seq"], emoji="🎉")
    await wa.call("react", conv=conv, seq=second["seq"], emoji="🎉", on=False)  # toggled back off
    await wa.call("react", conv=conv, seq=first["seq"], emoji="👍")
    assert (await wa.call("react", conv=conv, seq=first["seq"], emoji="👍"))["changed"] is False  # already on

    # the laptop comes back: the contract's sync alone says nothing moved ...
    b2 = await clients.connect(srv, b, device="b-laptop")
    assert (await b2.call("sync", convs={conv: 2}))["convs"] == []
    # ... its change cursor does, and unread is what it was: no message was added
    [state] = (await b2.call("sync", convs={conv: 2}, changes={conv: 0}))["convs"]
    assert state["max_seq"] == 2 and state["unread"] == 2 and state["change_seq"] == 5
    got = await b2.call("changes", conv=conv, after=0)
    assert got["change_seq"] == 5 and got["more"] is False
    by_seq = {m["seq"]: m for m in got["messages"]}
    assert set(by_seq) == {1, 2} and by_seq[1]["body"]["text"] == "hello" and by_seq[1]["edited_ts"] == edit["edited_ts"]
    assert by_seq[1]["reactions"] == [{"emoji": "👍", "count": 2, "users": [b.user_id, a.user_id]}]
    assert "reactions" not in by_seq[2] and "edited_ts" not in by_seq[2]
    page = await b2.call("changes", conv=conv, after=0, limit=1)  # paged: the cursor of the last one listed
    assert page["more"] is True and len(page["messages"]) == 1 and page["change_seq"] < 5
    assert (await b2.call("changes", conv=conv, after=5))["messages"] == []
    # a history page is self-contained: current text, edit time and reactions
    hist = await all_history(b2, conv)
    assert hist[0]["body"]["text"] == "hello" and hist[0]["edited_ts"] == edit["edited_ts"]
    assert hist[0]["reactions"] == by_seq[1]["reactions"] and "reactions" not in hist[1]


async def test_rules_and_clear_errors(srv: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(srv, 2)
    conv = direct_conv(a.user_id, b.user_id)
    wa = await clients.connect(srv, a)
    wb = await clients.connect(srv, b)
    text = await wa.send_text(b.user_id, "mine")
    loc = await wa.call("send", cid=uuid.uuid4().hex, to=b.user_id, kind="location", body={"lat": 1.0, "lng": 2.0})
    assert await wb.error("edit", conv=conv, seq=text["seq"], text="not yours") == "forbidden"
    assert await wa.error("edit", conv=conv, seq=loc["seq"], text="x") == "forbidden"
    assert await wa.error("edit", conv=conv, seq=99, text="x") == "not_found"
    assert await wa.error("edit", conv=conv, seq=text["seq"], text="") == "bad_request"
    for bad in ("", "abc", "👍 👍", "\u202e👍", "\x07", "👍" * 17):
        assert await wb.error("react", conv=conv, seq=text["seq"], emoji=bad) == "bad_request", bad
    for e in ("👍", "❤️", "👨‍👩‍👧"):
        assert (await wb.call("react", conv=conv, seq=text["seq"], emoji=e))["changed"]
    reply = await wb.request("react", conv=conv, seq=text["seq"], emoji="🎉")  # a 4th emoji: over the limit of 3
    assert reply["error"]["code"] == "forbidden" and "3" in reply["error"]["message"]
    # an outsider can neither edit nor react
    c = await api.account(srv)
    wc = await clients.connect(srv, c)
    assert await wc.error("react", conv=conv, seq=text["seq"], emoji="👍") == "forbidden"
    # recall drops the reactions; a recalled message can neither be edited nor reacted to
    await wa.call("recall", conv=conv, seq=text["seq"])
    [msg] = [m for m in await all_history(wb, conv) if m["seq"] == text["seq"]]
    assert msg["kind"] == "recalled" and "reactions" not in msg
    assert await wa.error("edit", conv=conv, seq=text["seq"], text="again") == "forbidden"
    assert await wb.error("react", conv=conv, seq=text["seq"], emoji="👍") == "forbidden"


async def test_edit_window_and_sdk(srv: ServerProcess, api: Api) -> None:
    a, b = await api.accounts(srv, 2)
    conv = direct_conv(a.user_id, b.user_id)
    ca = SemotClient(srv.base_url, device_id="sdk-a")
    await ca.login(a.user_id, a.password)
    await ca.connect()
    try:
        sent = await ca.send_text(b.user_id, "typo")
        assert (await ca.edit(conv, sent["seq"], "fixed"))["changed"] is True
        assert (await ca.react(conv, sent["seq"], "🙏"))["reactions"][0]["users"] == [a.user_id]
        got = await ca.changes(conv)
        assert [m["body"]["text"] for m in got["messages"]] == ["fixed"] and got["change_seq"] == 2
        [state] = await ca.sync({conv: sent["seq"]}, changes={conv: 0})
        assert state["change_seq"] == 2
        # wait out the window (on the server's clock, which stamped `ts`)
        while (await ca.ping()) - sent["ts"] <= EDIT_WINDOW_S * 1000:
            await asyncio.sleep(0.2)
        with pytest.raises(Exception) as info:
            await ca.edit(conv, sent["seq"], "too late")
        assert "within" in str(info.value)
        assert (await ca.react(conv, sent["seq"], "🙏", on=False))["changed"] is True  # reactions have no window
    finally:
        await ca.close()


async def test_group_members_all_hear_and_unread_stays(srv: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(srv, 3)
    conv = await api.group(srv, a, [b, c])
    wa = await clients.connect(srv, a)
    wb = await clients.connect(srv, b)
    wc = await clients.connect(srv, c)
    sent = await wa.send_text(conv, "lunch?")
    await wb.call("react", conv=conv, seq=sent["seq"], emoji="🍜")
    for ws in (wa, wc):
        evt = await ws.wait_for(is_evt("reaction", conv))
        assert evt["reactions"] == [{"emoji": "🍜", "count": 1, "users": [b.user_id]}]
    await wa.call("edit", conv=conv, seq=sent["seq"], text="lunch at 12?")
    for ws in (wb, wc):
        assert (await ws.wait_for(is_evt("edit", conv)))["body"]["text"] == "lunch at 12?"
    [state] = [s for s in (await wc.call("sync", convs={}, changes={}))["convs"] if s["conv"] == conv]
    assert state["unread"] == 1 and state["change_seq"] == 2
    assert state["last"]["body"]["text"] == "lunch at 12?" and state["last"]["reactions"][0]["emoji"] == "🍜"

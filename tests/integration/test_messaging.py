"""Messages (PROTOCOL.md §1, §2.3, §2.4): gap-free seqs, idempotent cid, catch-up, read,
typing, recall and burn-after-reading, driven over real sockets."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from semot.client import SemotClient
from tests.integration.harness import Api, Clients, ServerProcess, all_history, direct_conv, unique


def is_msg(conv: str) -> Any:
    return lambda f: f.get("t") == "msg" and f.get("conv") == conv


def is_evt(name: str, **fields: Any) -> Any:
    return lambda f: f.get("t") == "evt" and f.get("evt") == name and all(f.get(k) == v for k, v in fields.items())


async def test_concurrent_group_senders_get_gap_free_seqs(server: ServerProcess, api: Api, clients: Clients) -> None:
    senders_n, per_sender = 5, 40
    owner, *others = await api.accounts(server, senders_n + 1, "grp")
    conv = await api.group(server, owner, others)
    members = [owner, *others]
    conns = [await clients.connect(server, m) for m in members]
    senders = conns[:senders_n]  # the owner and four members send; the last member only reads
    total = 1 + senders_n * per_sender  # seq 1 is the `system` "group created" message

    async def blast(ws: Any, idx: int) -> list[dict[str, Any]]:
        futs = [
            ws.start_request("send", cid=f"s{idx}-{i}", to=conv, kind="text", body={"text": f"{idx}:{i}"})
            for i in range(per_sender)
        ]
        replies = await asyncio.wait_for(asyncio.gather(*futs), 30)
        assert all(r["ok"] for r in replies), [r for r in replies if not r["ok"]][:3]
        return [r["data"] for r in replies]

    acks = await asyncio.gather(*(blast(ws, i) for i, ws in enumerate(senders)))
    acked = sorted(a["seq"] for sender_acks in acks for a in sender_acks)
    assert acked == list(range(2, total + 1)), "acked seqs must be exactly 2..total"
    for sender_acks in acks:  # one connection's pipelined sends keep their order
        seqs = [a["seq"] for a in sender_acks]
        assert seqs == sorted(seqs)

    everything = set(range(2, total + 1))
    for i, ws in enumerate(conns):
        own = {a["seq"] for a in acks[i]} if i < senders_n else set()
        pushed: list[int] = []
        while set(pushed) | own < everything:
            pushed.append((await ws.wait_for(is_msg(conv), timeout=20))["seq"])
        await ws.call("ping")
        pushed += [m["seq"] for m in ws.pushes(is_msg(conv))]
        # seq 1 (stored before anyone connected) may still arrive as a late push: harmless
        pushed = [s for s in pushed if s != 1]
        assert len(pushed) == len(set(pushed)), f"member {i} got a push twice"
        assert set(pushed) | own == everything, f"member {i} has a gap"
        assert not own & set(pushed), "a sending device got its own message pushed"
        history = await all_history(ws, conv)
        assert [m["seq"] for m in history] == list(range(1, total + 1))
        assert history[0]["kind"] == "system" and history[0]["body"]["type"] == "group_created"
    bodies = {m["body"]["text"]: m for m in history[1:]}
    assert len(bodies) == senders_n * per_sender
    for i, sender_acks in enumerate(acks):
        for n, a in enumerate(sender_acks):
            m = bodies[f"{i}:{n}"]
            assert (m["seq"], m["mid"], m["from"], m["cid"]) == (a["seq"], a["mid"], members[i].user_id, f"s{i}-{n}")

    # sync agrees with history
    states = await conns[-1].call("sync", convs={})
    (st,) = [s for s in states["convs"] if s["conv"] == conv]
    assert st["max_seq"] == total and st["last"]["seq"] == total


async def test_idempotent_cid(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    first = await wa.call("send", cid="same", to=b.user_id, kind="text", body={"text": "once"})
    again = await wa.call("send", cid="same", to=b.user_id, kind="text", body={"text": "once"})
    changed = await wa.call("send", cid="same", to=b.user_id, kind="text", body={"text": "different body"})
    assert again == first and changed == first
    # Concurrent duplicates (same batch) also collapse to one message.
    futs = [wa.start_request("send", cid="burst", to=b.user_id, kind="text", body={"text": "b"}) for _ in range(5)]
    replies = await asyncio.gather(*futs)
    assert all(r["ok"] for r in replies)
    assert len({(r["data"]["seq"], r["data"]["mid"]) for r in replies}) == 1
    history = await all_history(wa, conv)
    assert [(m["cid"], m["seq"]) for m in history] == [("same", 1), ("burst", 2)]
    assert history[0]["body"] == {"text": "once"}
    # b got each message pushed exactly once
    pushed = await wb.wait_msgs(conv, 2)
    await wb.call("ping")
    assert [m["seq"] for m in pushed] == [1, 2] and wb.pushes(is_msg(conv)) == []
    # The same cid from another sender is another message.
    other = await wb.call("send", cid="same", to=a.user_id, kind="text", body={"text": "mine"})
    assert other["seq"] == 3


async def test_offline_catch_up_with_sync_and_history(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    group = await api.group(server, c, [a, b], "catchup")
    wa = await clients.connect(server, a)
    wc = await clients.connect(server, c)
    direct = direct_conv(a.user_id, b.user_id)
    sent = [await wa.send_text(b.user_id, f"while you were out {i}") for i in range(7)]
    for i in range(3):
        await wc.send_text(group, f"group {i}")
    # b comes online
    wb = await clients.connect(server, b)
    states = {s["conv"]: s for s in (await wb.call("sync", convs={}))["convs"]}
    assert set(states) == {direct, group}
    d = states[direct]
    assert (d["max_seq"], d["read_seq"], d["unread"]) == (7, 0, 7)
    assert d["last"]["seq"] == 7 and d["last"]["mid"] == sent[-1]["mid"] and d["last"]["body"] == {"text": "while you were out 6"}
    g = states[group]
    assert (g["max_seq"], g["read_seq"]) == (4, 0)
    assert g["last"]["body"] == {"text": "group 2"}
    # Having read the "group created" notice, three messages from c are unread.
    await wb.call("read", conv=group, seq=1)
    (g,) = [s for s in (await wb.call("sync", convs={}))["convs"] if s["conv"] == group]
    assert (g["max_seq"], g["read_seq"], g["unread"]) == (4, 1, 3)
    # Known positions: only what moved is listed.
    assert (await wb.call("sync", convs={direct: 7, group: 4}))["convs"] == []
    moved = (await wb.call("sync", convs={direct: 5, group: 4}))["convs"]
    assert [s["conv"] for s in moved] == [direct]
    # history returns the missed messages in order, paged both ways
    page = await wb.call("history", conv=direct, after=0, limit=4)
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3, 4] and page["more"] is True
    page = await wb.call("history", conv=direct, after=4, limit=4)
    assert [m["seq"] for m in page["messages"]] == [5, 6, 7] and page["more"] is False
    assert [m["mid"] for m in page["messages"]] == [s["mid"] for s in sent[4:]]
    page = await wb.call("history", conv=direct, before=7, limit=3)
    assert [m["seq"] for m in page["messages"]] == [4, 5, 6] and page["more"] is True
    page = await wb.call("history", conv=direct, before=3, limit=10)
    assert [m["seq"] for m in page["messages"]] == [1, 2] and page["more"] is False
    page = await wb.call("history", conv=direct, limit=2)  # neither: the latest
    assert [m["seq"] for m in page["messages"]] == [6, 7] and page["more"] is True
    gh = await all_history(wb, group)
    assert [m["seq"] for m in gh] == [1, 2, 3, 4] and [m["body"].get("text") for m in gh[1:]] == ["group 0", "group 1", "group 2"]
    # nothing of the past is pushed on connect
    await wb.call("ping")
    assert wb.pushes(lambda f: f.get("t") == "msg") == []


async def test_sdk_catch_up_delivers_each_message_once(server: ServerProcess, api: Api, clients: Clients, tmp_path: Path) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    conv = direct_conv(a.user_id, b.user_id)
    state = tmp_path / "b-state.json"
    got: list[tuple[str, int]] = []

    sdk = SemotClient(server.base_url, device_id="sdk-b", backoff_base=0.05, backoff_max=0.5, state_file=state)
    sdk.on_message(lambda m: got.append((m["conv"], m["seq"])))
    try:
        await sdk.login(b.user_id, b.password)
        await sdk.connect()
        for i in range(3):
            await wa.send_text(b.user_id, f"live {i}")

        async def wait_got(n: int) -> None:
            deadline = time.monotonic() + 10
            while len(got) < n and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert len(got) >= n, got

        await wait_got(3)
        # The network drops; messages keep coming; the SDK reconnects and fills the gap.
        await sdk.drop_connection()
        futs = [wa.start_request("send", cid=f"gap{i}", to=b.user_id, kind="text", body={"text": f"gap {i}"}) for i in range(10)]
        assert all(r["ok"] for r in await asyncio.gather(*futs))
        await wait_got(13)
        assert sdk.reconnects >= 1
        # b's own send through the SDK is delivered to b's app once as well
        await sdk.send_text(a.user_id, "back")
        await wait_got(14)
        await asyncio.sleep(0.2)  # would-be duplicates have had time to arrive
        assert got == [(conv, s) for s in range(1, 15)]
    finally:
        await sdk.close()

    # Fully offline: a new client process with the saved state gets exactly what it missed.
    for i in range(4):
        await wa.send_text(b.user_id, f"offline {i}")
    sdk2 = SemotClient(server.base_url, device_id="sdk-b", state_file=state)  # no handler: next_message()
    try:
        await sdk2.login(b.user_id, b.password)
        await sdk2.connect()
        got2 = [await sdk2.next_message(timeout=5) for _ in range(4)]
        assert [(m["conv"], m["seq"]) for m in got2] == [(conv, s) for s in range(15, 19)]
        assert [m["body"]["text"] for m in got2] == [f"offline {i}" for i in range(4)]
        with pytest.raises(asyncio.TimeoutError):
            await sdk2.next_message(timeout=0.3)  # and nothing already seen comes again
    finally:
        await sdk2.close()


async def test_read_positions_and_read_events(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    b1 = await clients.connect(server, b, "b-phone")
    b2 = await clients.connect(server, b, "b-web")
    conv = direct_conv(a.user_id, b.user_id)
    for i in range(3):
        await wa.send_text(b.user_id, f"m{i}")
    await b1.wait_msgs(conv, 3)

    assert await b1.call("read", conv=conv, seq=2) == {}
    evt = await wa.wait_for(is_evt("read"))
    assert evt == {"t": "evt", "evt": "read", "conv": conv, "seq": 2, "user": b.user_id}
    evt2 = await b2.wait_for(is_evt("read"))  # the reader's other device
    assert evt2 == evt
    await b1.call("ping")
    assert b1.pushes(is_evt("read")) == []  # not echoed to the reading device

    (sb,) = (await b1.call("sync", convs={}))["convs"]
    assert (sb["max_seq"], sb["read_seq"], sb["unread"]) == (3, 2, 1)
    (sa,) = (await wa.call("sync", convs={}))["convs"]
    assert (sa["max_seq"], sa["read_seq"], sa["unread"]) == (3, 0, 0)  # a sent them all

    # Reading backwards changes nothing and pushes nothing.
    assert await b2.call("read", conv=conv, seq=1) == {}
    (sb,) = (await b2.call("sync", convs={}))["convs"]
    assert sb["read_seq"] == 2
    # Reading past the end is refused.
    assert await b1.error("read", conv=conv, seq=99) == "bad_request"
    # b answers: a's unread counts b's message only
    await b1.send_text(a.user_id, "ok")
    (sa,) = (await wa.call("sync", convs={}))["convs"]
    assert (sa["max_seq"], sa["unread"]) == (4, 1)
    await b1.call("read", conv=conv, seq=4)
    (sb,) = (await b1.call("sync", convs={}))["convs"]
    assert (sb["read_seq"], sb["unread"]) == (4, 0)
    await wa.call("ping")
    assert [e["seq"] for e in wa.pushes(is_evt("read"))] == [4]


async def test_read_in_group_pushes_to_members(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    conv = await api.group(server, a, [b, c])
    wa, wb, wc = [await clients.connect(server, u) for u in (a, b, c)]
    ack = await wa.send_text(conv, "read me")
    await wb.wait_msgs(conv, 1)
    await wb.call("read", conv=conv, seq=ack["seq"])
    for ws in (wa, wc):
        evt = await ws.wait_for(is_evt("read"))
        assert (evt["conv"], evt["seq"], evt["user"]) == (conv, ack["seq"], b.user_id)


async def test_typing(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    assert await wa.call("typing", conv=conv) == {}
    evt = await wb.wait_for(is_evt("typing"))
    assert evt == {"t": "evt", "evt": "typing", "conv": conv, "user": a.user_id}
    group = await api.group(server, a, [b])
    assert await wa.error("typing", conv=group) == "bad_request"
    # someone else's direct chat
    wc = await clients.connect(server, c)
    assert await wc.error("typing", conv=conv) == "forbidden"
    await wb.call("ping")
    assert wb.pushes(is_evt("typing")) == []


async def test_recall(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    a1 = await clients.connect(server, a)
    a2 = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    ack = await a1.send_text(b.user_id, "oops")
    keep = await a1.send_text(b.user_id, "keep")
    await wb.wait_msgs(conv, 2)

    assert await wb.error("recall", conv=conv, seq=ack["seq"]) == "forbidden"  # not the sender
    assert await a1.error("recall", conv=conv, seq=99) == "not_found"
    assert await a1.call("recall", conv=conv, seq=ack["seq"]) == {}
    for ws in (wb, a2):
        evt = await ws.wait_for(is_evt("recall"))
        assert evt == {"t": "evt", "evt": "recall", "conv": conv, "seq": ack["seq"], "by": a.user_id}
    by_seq = {m["seq"]: m for m in await all_history(wb, conv)}
    recalled = by_seq[ack["seq"]]  # keeps its seq and mid; the body is a tombstone
    assert (recalled["mid"], recalled["kind"], recalled["body"]) == (ack["mid"], "recalled", {})
    assert by_seq[keep["seq"]]["body"] == {"text": "keep"} and by_seq[keep["seq"]]["kind"] == "text"
    # Whatever else the server records about the recall, it never revives the text.
    assert all(m["body"].get("text") != "oops" for m in by_seq.values())
    (st,) = (await wb.call("sync", convs={}))["convs"]
    assert st["max_seq"] >= 2 and sorted(by_seq) == list(range(1, st["max_seq"] + 1))
    # Recalling again is harmless.
    assert await a1.call("recall", conv=conv, seq=ack["seq"]) == {}
    # A stranger cannot recall in a conversation they are not in.
    c = await api.account(server)
    wc = await clients.connect(server, c)
    assert await wc.error("recall", conv=conv, seq=keep["seq"]) == "forbidden"


async def test_recall_in_a_group(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3)
    conv = await api.group(server, a, [b, c])
    wa, wb, wc = [await clients.connect(server, u) for u in (a, b, c)]
    ack = await wb.send_text(conv, "regret")
    # another member is not the sender (the owner and admins may: tests/compliance/test_recall_admin.py)
    assert await wc.error("recall", conv=conv, seq=ack["seq"]) == "forbidden"
    assert await wa.error("recall", conv=conv, seq=1) == "forbidden"  # the "group created" notice
    assert await wb.call("recall", conv=conv, seq=ack["seq"]) == {}
    for ws in (wa, wc):
        evt = await ws.wait_for(is_evt("recall"))
        assert (evt["conv"], evt["seq"], evt["by"]) == (conv, ack["seq"], b.user_id)
    by_seq = {m["seq"]: m for m in await all_history(wc, conv)}
    assert by_seq[ack["seq"]]["kind"] == "recalled" and by_seq[ack["seq"]]["body"] == {}


async def test_recall_after_the_window_is_forbidden(tuned_server: ServerProcess, api: Api, clients: Clients) -> None:
    """SEMOT_RECALL_WINDOW_S=1 on this server."""
    a, b = await api.accounts(tuned_server, 2)
    wa = await clients.connect(tuned_server, a)
    conv = direct_conv(a.user_id, b.user_id)
    old = await wa.send_text(b.user_id, "too late to take back")
    await asyncio.sleep(1.3)
    fresh = await wa.send_text(b.user_id, "still in time")
    assert await wa.error("recall", conv=conv, seq=old["seq"]) == "forbidden"
    assert await wa.call("recall", conv=conv, seq=fresh["seq"]) == {}
    by_seq = {m["seq"]: m for m in await all_history(wa, conv)}
    assert by_seq[old["seq"]]["kind"] == "text" and by_seq[old["seq"]]["body"] == {"text": "too late to take back"}
    assert by_seq[fresh["seq"]]["kind"] == "recalled" and by_seq[fresh["seq"]]["body"] == {}


async def test_burn_after_reading(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    conv = direct_conv(a.user_id, b.user_id)
    secret = await wa.call("send", cid=unique("c"), to=b.user_id, kind="text", body={"text": "secret"}, opts={"burn_s": 1})
    plain = await wa.send_text(b.user_id, "not secret")
    (m, _) = await wb.wait_msgs(conv, 2)
    assert m["opts"] == {"burn_s": 1} and m["body"] == {"text": "secret"}
    # Nothing burns before the recipient reads (the sender's own reading does not count).
    await wa.call("read", conv=conv, seq=plain["seq"])
    await asyncio.sleep(1.5)
    assert wb.pushes(is_evt("burned")) == [] and (await all_history(wb, conv))[0]["body"] == {"text": "secret"}

    read_at = time.monotonic()
    await wb.call("read", conv=conv, seq=plain["seq"])
    for ws in (wa, wb):
        evt = await ws.wait_for(is_evt("burned"), timeout=5)
        assert evt == {"t": "evt", "evt": "burned", "conv": conv, "seq": secret["seq"]}
    assert time.monotonic() - read_at < 3.5
    history = await all_history(wa, conv)
    assert history[0]["seq"] == secret["seq"] and history[0]["kind"] == "burned" and history[0]["body"] == {}
    assert history[1]["body"] == {"text": "not secret"}
    assert wb.pushes(is_evt("burned")) == [] and wa.pushes(is_evt("burned")) == []


async def test_unread_across_many_conversations(server: ServerProcess, api: Api, clients: Clients) -> None:
    me, *friends = await api.accounts(server, 4)
    conns = [await clients.connect(server, f) for f in friends]
    for n, ws in enumerate(conns, start=1):
        for i in range(n):
            await ws.send_text(me.user_id, f"{i}")
    wm = await clients.connect(server, me)
    states = {s["conv"]: s for s in (await wm.call("sync", convs={}))["convs"]}
    assert {c: (s["max_seq"], s["unread"]) for c, s in states.items()} == {
        direct_conv(me.user_id, f.user_id): (n, n) for n, f in enumerate(friends, start=1)
    }


async def test_cid_may_be_any_string_up_to_64(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2)
    wa = await clients.connect(server, a)
    cid = "Ω " + uuid.uuid4().hex + "!/:"
    ack = await wa.call("send", cid=cid, to=b.user_id, kind="text", body={"text": "x"})
    (m,) = await all_history(wa, ack["conv"])
    assert m["cid"] == cid
    assert await wa.error("send", cid="x" * 65, to=b.user_id, kind="text", body={"text": "x"}) == "bad_request"

"""Durability (PROTOCOL.md §1, §5): graceful restart, cid idempotence across restarts, and
`kill -9` right after acknowledgements with every acknowledged message still there."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.integration.harness import WS, Api, Clients, ServerProcess, all_history, direct_conv

# These tests send as fast as they can: lift the per-connection rate limit.
FAST = {"SEMOT_RATE_PER_S": "100000", "SEMOT_RATE_BURST": "100000"}


class Load:
    """Senders that each keep 16 sends in flight until their connection dies, recording
    every acknowledgement and every send that ended without one."""

    def __init__(self, target: int) -> None:
        self.acks: list[tuple[str, dict[str, Any]]] = []  # (cid, ack data)
        self.unacked: list[tuple[str, str, str]] = []  # (sender tag, to, cid)
        self.errors: list[dict[str, Any]] = []  # error replies among the unacked
        self.target = target
        self.enough = asyncio.Event()

    async def sender(self, ws: WS, to: str, tag: str) -> None:
        window: set[asyncio.Future[dict[str, Any]]] = set()
        meta: dict[asyncio.Future[dict[str, Any]], str] = {}

        def settle(done: set[asyncio.Future[dict[str, Any]]]) -> None:
            for f in done:
                cid = meta.pop(f)
                reply = f.result() if f.done() and f.exception() is None else None
                if reply is not None and reply["ok"]:
                    self.acks.append((cid, reply["data"]))
                    if len(self.acks) >= self.target:
                        self.enough.set()
                    continue
                if reply is not None:
                    self.errors.append(reply)
                self.unacked.append((tag, to, cid))

        i = 0
        while not ws.closed.is_set():
            while len(window) < 16 and not ws.closed.is_set():
                cid = f"{tag}-{i}"
                i += 1
                fut = ws.start_request("send", cid=cid, to=to, kind="text", body={"text": f"body of {cid}"})
                window.add(fut)
                meta[fut] = cid
            done, window = await asyncio.wait(window, return_when=asyncio.FIRST_COMPLETED)
            settle(done)
        if window:
            await asyncio.wait(window, timeout=5)
            settle(window)

    async def check_stored(self, readers: dict[str, WS]) -> dict[str, dict[int, dict[str, Any]]]:
        """Every acked (conv, seq, mid, body) is in history, and the seqs are gap-free."""
        stored: dict[str, dict[int, dict[str, Any]]] = {}
        for conv, ws in readers.items():
            history = await all_history(ws, conv)
            seqs = [m["seq"] for m in history]
            assert seqs == list(range(1, len(seqs) + 1)), f"{conv}: gap or duplicate after the restart"
            cids = [m["cid"] for m in history]
            assert len(cids) == len(set(cids)), f"{conv}: a cid stored twice"
            stored[conv] = {m["seq"]: m for m in history}
        for cid, ack in self.acks:
            m = stored[ack["conv"]].get(ack["seq"])
            assert m is not None, f"acknowledged {cid} ({ack['conv']} #{ack['seq']}) was lost"
            assert (m["mid"], m["cid"], m["body"]) == (ack["mid"], cid, {"text": f"body of {cid}"})
        return stored


async def test_sigterm_closes_1001_exits_0_and_restart_keeps_history(
    spawn_server: Any, api: Api, clients: Clients
) -> None:
    srv: ServerProcess = spawn_server(FAST)
    a, b = await api.accounts(srv, 2)
    wa = await clients.connect(srv, a)
    wb = await clients.connect(srv, b)
    conv = direct_conv(a.user_id, b.user_id)
    acks = [await wa.send_text(b.user_id, f"before {i}", cid=f"pre{i}") for i in range(5)]
    acks.append(await wb.send_text(a.user_id, "reply", cid="pre-b"))

    assert await srv.astop() == 0
    assert await wa.wait_closed() == 1001
    assert await wb.wait_closed() == 1001

    await srv.astart()  # same data dir, new port
    # Tokens survive a restart (the signing key lives in the data dir).
    wa = await clients.connect(srv, a)
    history = await all_history(wa, conv)
    assert [(m["seq"], m["mid"], m["body"]) for m in history] == [
        (x["seq"], x["mid"], {"text": f"before {i}"} if i < 5 else {"text": "reply"}) for i, x in enumerate(acks)
    ]
    (st,) = (await wa.call("sync", convs={}))["convs"]
    assert st["max_seq"] == 6
    # The same cid after the restart is still the same message.
    again = await wa.call("send", cid="pre2", to=b.user_id, kind="text", body={"text": "before 2"})
    assert again == acks[2]
    nxt = await wa.send_text(b.user_id, "after")
    assert nxt["seq"] == 7
    status, _body = await api.login(srv, b.user_id)
    assert status == 200


async def test_sigterm_with_sends_in_flight_loses_no_ack(spawn_server: Any, api: Api, clients: Clients) -> None:
    srv: ServerProcess = spawn_server(FAST)
    a, b, c = await api.accounts(srv, 3)
    wa = await clients.connect(srv, a)
    wc = await clients.connect(srv, c)
    load = Load(target=300)
    tasks = [asyncio.create_task(load.sender(wa, b.user_id, "a")), asyncio.create_task(load.sender(wc, b.user_id, "c"))]
    await asyncio.wait_for(load.enough.wait(), 30)
    assert await srv.astop() == 0  # while both keep sending
    await asyncio.wait_for(asyncio.gather(*tasks), 15)
    # Both were still sending when the server closed: the session loop closes from its own
    # task and waits for the client's close frame, so the 1001 is not lost to a TCP reset.
    assert await wa.wait_closed() == 1001 and await wc.wait_closed() == 1001
    # What was not acknowledged ended visibly: `unavailable` or the connection closing.
    assert all(e["error"]["code"] == "unavailable" for e in load.errors), load.errors[:3]

    await srv.astart()
    wb = await clients.connect(srv, b)
    await load.check_stored(
        {direct_conv(a.user_id, b.user_id): wb, direct_conv(c.user_id, b.user_id): wb}
    )


async def test_kill_9_right_after_acks_loses_nothing_acknowledged(
    spawn_server: Any, api: Api, clients: Clients
) -> None:
    srv: ServerProcess = spawn_server(FAST)
    users = await api.accounts(srv, 6, "k9")
    group = await api.group(srv, users[0], users[1:], "k9")
    conns = [await clients.connect(srv, u) for u in users]
    # Six senders: three in direct chats (0->1, 2->3, 4->5), three more into one group.
    plans: list[tuple[WS, str, str]] = [
        (conns[0], users[1].user_id, "s0"),
        (conns[2], users[3].user_id, "s2"),
        (conns[4], users[5].user_id, "s4"),
        (conns[1], group, "s1"),
        (conns[3], group, "s3"),
        (conns[5], group, "s5"),
    ]
    load = Load(target=1500)
    tasks = [asyncio.create_task(load.sender(*p)) for p in plans]
    await asyncio.wait_for(load.enough.wait(), 60)
    srv.kill()  # SIGKILL, right after the last ack was read
    await asyncio.wait_for(asyncio.gather(*tasks), 15)
    assert len(load.acks) >= load.target
    assert load.unacked, "the kill must hit while sends were in flight"

    await srv.astart()
    convs = {
        direct_conv(users[0].user_id, users[1].user_id): users[1],
        direct_conv(users[2].user_id, users[3].user_id): users[3],
        direct_conv(users[4].user_id, users[5].user_id): users[5],
        group: users[0],
    }
    readers = {conv: await clients.connect(srv, u) for conv, u in convs.items()}
    stored = await load.check_stored(readers)

    # Clients resend whatever was not acknowledged, with the same cid: afterwards every
    # cid is stored exactly once, the seqs stay gap-free and nothing stored changed.
    fresh = {tag: await clients.connect(srv, users[int(tag[1])]) for _, _, tag in plans}
    random.shuffle(load.unacked)
    await asyncio.gather(
        *(fresh[tag].call("send", cid=cid, to=to, kind="text", body={"text": f"body of {cid}"}) for tag, to, cid in load.unacked)
    )
    load.acks = []
    after = await load.check_stored(readers)
    for conv, before in stored.items():
        for seq, m in before.items():
            assert after[conv][seq] == m, "a stored message changed after the restart"
    every_cid = {m["cid"] for msgs in after.values() for m in msgs.values()}
    assert {cid for _, _, cid in load.unacked} <= every_cid

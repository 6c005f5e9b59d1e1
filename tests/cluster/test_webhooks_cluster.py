"""Webhooks on two nodes sharing PostgreSQL and Redis (services/webhooks.py): a hook
registered on one node is used by the other at once (told over the bus, not found by a
poll), and the events of both nodes' clients, sending into the same conversations at
the same time, are each delivered once, in order per conversation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.integration.harness import Api, Clients, ServerProcess, direct_conv
from tests.integration_api.webhook_fixtures import ADMIN, ADMIN_PW, FAST, Hooks
from tests.integration_api.webhook_receiver import Hit, Receiver
from tests.support.cluster import Cluster, two_nodes


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    # the safety-net poll of the deliveries slowed right down: what is fast must be the bus
    extra = {**FAST, "SEMOT_WEBHOOK_POLL_S": "20", "SEMOT_RATE_PER_S": "1000", "SEMOT_RATE_BURST": "1000"}
    cluster: Cluster[ServerProcess]
    with two_nodes(tmp_path_factory.mktemp("hooks"), "hooks", extra, server=ServerProcess) as cluster:
        cluster.a.create_admin(ADMIN, ADMIN_PW)
        yield cluster.a, cluster.b


def _sent(h: Hit) -> bool:
    return bool(h.doc["event"] == "message.sent")


async def test_events_of_both_nodes_once_each_in_order(
    nodes: tuple[ServerProcess, ServerProcess], api: Api, clients: Clients
) -> None:
    a, b = nodes
    receiver = await Receiver().start()
    hooks = Hooks(api, a)
    try:
        users = await api.accounts(a, 4, "hk")
        # a hook registered on node A: node B uses it within moments (the bus), far below
        # the 30 s safety-net reload
        on_b = await clients.connect(b, users[1])
        await hooks.add(receiver.base + "/ok", ["message.sent"])
        started = time.monotonic()
        probe_conv = direct_conv(users[1].user_id, users[3].user_id)
        while not [h for h in receiver.hits if _sent(h) and h.doc["data"]["conv"] == probe_conv]:
            assert time.monotonic() - started < 5, "node B did not learn of the hook registered on node A"
            await on_b.send_text(users[3].user_id, "probe")
            await asyncio.sleep(0.1)
        def blasted(h: Hit) -> bool:  # the probes' chat (users 1 and 3) is none of the chats below
            return _sent(h) and h.doc["data"]["conv"] != probe_conv

        # clients on both nodes send into one group and two direct chats at the same time
        conns = [await clients.connect(node, u) for node, u in zip((a, b, a, b), users, strict=True)]
        gconv = await api.group(a, users[0], users[1:], name="hooks")
        per = 15

        async def blast(i: int) -> list[tuple[str, int]]:
            out = []
            peer = users[(i + 1) % len(users)]
            for n in range(per):
                ack = await conns[i].call("send", to=gconv, kind="text", body={"text": f"{i}-{n}"}, cid=f"g{i}-{n}")
                out.append((gconv, ack["seq"]))
                ack = await conns[i].send_text(peer.user_id, f"d{i}-{n}")
                out.append((direct_conv(users[i].user_id, peer.user_id), ack["seq"]))
            return out

        sent = [x for xs in await asyncio.gather(*(blast(i) for i in range(len(conns)))) for x in xs]
        assert len(sent) == 2 * per * len(conns)
        await receiver.wait(blasted, n=len(sent), timeout=30)
        await asyncio.sleep(1.0)  # a delivery posted twice would show now
        docs = [h.doc for h in receiver.hits if blasted(h)]
        ids = [d["id"] for d in docs]
        assert len(ids) == len(set(ids)) == len(sent)  # once each
        got = [(d["data"]["conv"], d["data"]["seq"]) for d in docs]
        assert sorted(got) == sorted(sent)
        for conv in {c for c, _ in sent}:
            seqs = [s for c, s in got if c == conv]
            assert seqs == sorted(seqs), (conv, seqs)  # in order per conversation
        # both nodes' messages are there: the group's senders were on A and on B
        senders = {d["data"]["from"] for d in docs if d["data"]["conv"] == gconv}
        assert senders == {u.user_id for u in users}
        for c in (on_b, *conns):
            await c.close()
    finally:
        await hooks.close()
        await receiver.stop()

"""The Python SDK's `search_messages` against a real server (issue 13): a Chinese word
inside a sentence, filters, paging by cursor, and only one's own conversations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"SEMOT_RATE_PER_S": "100000", "SEMOT_RATE_BURST": "100000"}
    srv = ServerProcess(tmp_path_factory.mktemp("sdk-search") / "data", env=env).start()
    yield srv
    srv.kill()


async def user(server: ServerProcess, prefix: str) -> SemotClient:
    c = SemotClient(server.base)
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    await c.register(name, "password123")
    await c.login(name, "password123")
    return c


def texts(reply: dict) -> list[str]:
    return [h["body"]["text"] for h in reply["hits"]]


async def test_search_messages_finds_words_filters_and_pages(server: ServerProcess) -> None:
    alice, bob, carol = await user(server, "a"), await user(server, "b"), await user(server, "c")
    try:
        await alice.connect()
        await bob.connect()
        assert alice.user_id and bob.user_id and carol.user_id
        sent = await bob.send_text(alice.user_id, "请把合同发给我")
        await alice.send_text(bob.user_id, "contract 2024 已收到")
        for i in range(5):
            await alice.send_text(bob.user_id, f"report {i} 合同附件")
        await bob.send_text(carol.user_id, "合同 is secret to alice")

        found = await alice.search_messages("合同")
        assert texts(found)[0] == "report 4 合同附件"  # newest first
        assert "请把合同发给我" in texts(found)
        assert "合同 is secret to alice" not in texts(found)  # not her conversation
        hit = next(h for h in found["hits"] if h["body"]["text"] == "请把合同发给我")
        assert (hit["conv"], hit["seq"], hit["from"]) == (sent["conv"], sent["seq"], bob.user_id)

        assert texts(await alice.search_messages("合同", sender=bob.user_id)) == ["请把合同发给我"]
        assert texts(await alice.search_messages("contract")) == ["contract 2024 已收到"]
        assert texts(await alice.search_messages("合同", conv=sent["conv"])) == texts(found)
        assert len(found["hits"]) == 6 and found["next"] is None

        first = await alice.search_messages("合同", limit=2)
        assert len(first["hits"]) == 2 and first["next"]
        pages = texts(first)
        cursor = first["next"]
        while cursor:
            more = await alice.search_messages("合同", limit=2, cursor=cursor)
            pages += texts(more)
            cursor = more["next"]
        assert pages == texts(await alice.search_messages("合同", limit=50))

        later = await alice.search_messages("合同", since=hit["ts"] + 10**9)
        assert later["hits"] == [] and later["next"] is None

        with pytest.raises(SemotAPIError) as err:
            await alice.search_messages("")
        assert err.value.code == "bad_request"
    finally:
        for c in (alice, bob, carol):
            await c.close()

"""GET /api/v1/conversations/{conv}/reads over a real server: the read positions behind
group read receipts ("2 unread", who has not read) are for members only, and only for
groups small enough that `evt read` keeps them current (read_receipts_max_group)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # a limit of 3: a group of 3 has receipts, a group of 4 has none
    srv = ServerProcess(tmp_path_factory.mktemp("reads") / "data", {"SEMOT_READ_RECEIPTS_MAX_GROUP": "3"}).start()
    yield srv
    srv.kill()


@pytest.fixture
async def people(server: ServerProcess) -> AsyncIterator[list[SemotClient]]:
    tag = uuid.uuid4().hex[:6]
    out = []
    for name in ("ann", "ben", "cat", "dan"):
        c = SemotClient(server.base)
        await c.register(f"{name}{tag}", "password123")
        await c.login(f"{name}{tag}", "password123")
        await c.connect()
        out.append(c)
    yield out
    for c in out:
        await c.close()


def uid(c: SemotClient) -> str:
    assert c.user_id is not None
    return c.user_id


async def test_members_see_read_positions(people: list[SemotClient]) -> None:
    ann, ben, cat, dan = people
    g = await ann.create_group("Three", [uid(ben), uid(cat)])
    conv = g["conv"]
    sent = await ann.send_text(conv, "hello")
    seq = sent["seq"]
    reads = (await ann.http("GET", f"/api/v1/conversations/{conv}/reads"))["reads"]
    assert set(reads) == {uid(ann), uid(ben), uid(cat)}
    assert reads[uid(ben)] == 0 and reads[uid(cat)] == 0
    await ben.read(conv, seq)
    reads = (await cat.http("GET", f"/api/v1/conversations/{conv}/reads"))["reads"]
    assert reads[uid(ben)] == seq and reads[uid(cat)] == 0

    # not a member: refused, whether or not the group exists
    with pytest.raises(SemotAPIError) as info:
        await dan.http("GET", f"/api/v1/conversations/{conv}/reads")
    assert info.value.status == 403


async def test_no_receipts_beyond_the_limit(people: list[SemotClient]) -> None:
    ann, ben, cat, dan = people
    g = await ann.create_group("Four", [uid(ben), uid(cat), uid(dan)])
    with pytest.raises(SemotAPIError) as info:
        await ann.http("GET", f"/api/v1/conversations/{g['conv']}/reads")
    assert info.value.status == 403


async def test_direct_chat_reads(people: list[SemotClient]) -> None:
    ann, ben, _, _ = people
    await ann.http("POST", "/api/v1/friends/requests", {"user_id": uid(ben)})
    lo, hi = sorted([uid(ann), uid(ben)], key=lambda s: s.encode())
    conv = f"d:{lo}:{hi}"
    try:
        sent = await ann.send_text(uid(ben), "hi")
    except SemotAPIError:
        pytest.skip("direct messages need friendship on this server")
    await ben.read(conv, sent["seq"])
    reads = (await ann.http("GET", f"/api/v1/conversations/{conv}/reads"))["reads"]
    assert set(reads) == {uid(ann), uid(ben)} and reads[uid(ben)] == sent["seq"]


async def test_read_positions_with_join_times(people: list[SemotClient]) -> None:
    """`joined` (user_id -> joined_at ms) beside `reads`, in the raw reply and the Python
    SDK's read_positions: who joined after a message was sent is left out of its read
    receipts by the client."""
    ann, ben, cat, dan = people
    g = await ann.create_group("Joins", [uid(ben)])
    conv = g["conv"]
    sent = await ann.send_text(conv, "before cat")
    await ben.read(conv, sent["seq"])
    await ann.http("POST", f"/api/v1/groups/{g['group_id']}/members", {"user_ids": [uid(cat)]})

    marks = await ann.read_positions(conv)
    assert set(marks) == {"reads", "joined"}
    assert marks["reads"] == {uid(ann): 0, uid(ben): sent["seq"], uid(cat): 0}
    joined = marks["joined"]
    assert set(joined) == {uid(ann), uid(ben), uid(cat)}
    assert joined[uid(ann)] <= sent["ts"] and joined[uid(ben)] <= sent["ts"]
    assert joined[uid(cat)] > sent["ts"]  # cat came after: not one of its non-readers
    # the raw reply is the same, additive to `reads`
    raw = await cat.http("GET", f"/api/v1/conversations/{conv}/reads")
    assert raw == marks

    with pytest.raises(SemotAPIError) as info:  # members only
        await dan.read_positions(conv)
    assert info.value.status == 403

"""Customer service on a real node in-process (SQLite): what needs a backlog of hundreds
of sessions or a race placed exactly, made directly in the store (fast) while the
service under test runs as in production."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest

from semot.app import Node
from semot.config import Settings
from semot.domain.customer_service import Agent, Queue, Session
from semot.domain.records import User
from semot.errors import Conflict
from semot.ids import now_ms


@pytest.fixture
async def node(tmp_path: Path) -> Any:
    n = Node(Settings(data_dir=tmp_path, cs_drain_s=0.3))
    await n.start()
    for u in ("ann", "bob", "cat", "vic"):
        await n.storage.users.create_user(User(u, u, u, "x"))
    yield n
    await n.stop()


async def _queue(n: Node, queue_id: str, position: int) -> None:
    await n.storage.customer_service.put_queue(Queue(queue_id, queue_id, "", position, now_ms()))


async def _agent(n: Node, user_id: str, queues: list[str], max_concurrent: int = 1) -> None:
    await n.storage.customer_service.put_agent(Agent(user_id, tuple(queues), "", max_concurrent, "online", now_ms()))


async def _backlog(n: Node, queue_id: str, count: int, state: str = "waiting") -> None:
    """`count` old pending sessions of other visitors in `queue_id` (nobody serves that queue)."""
    store = n.storage.customer_service
    for i in range(count):
        hexid = secrets.token_hex(8)
        assert await store.add_session(Session(f"css_{hexid}", f"g:cs_{hexid}", f"v.old{i}", queue_id, None, state,
                                               None, i + 1))


async def test_the_workbench_and_the_sweep_see_their_queue_behind_another_queues_backlog(node: Node) -> None:
    """A backlog of 250 sessions in another queue (older) hides neither an agent's own
    waiting session in the workbench nor the session the sweep should give them."""
    cs = node.customer_service
    assert cs is not None
    await _queue(node, "other", 0)
    await _queue(node, "mine", 1)
    await _backlog(node, "other", 250)
    await _agent(node, "ann", ["mine"], max_concurrent=1)
    assert await node.presence.connected("ann", "s-ann", "phone")  # connected and online
    # ann is full (one active session), so the visitor's new session waits in her queue
    store = node.storage.customer_service
    assert await store.add_session(Session("css_busy", "g:cs_busy", "v.busy", "mine", "ann", "active", None, 1))
    visitor = (await node.storage.users.users_by_ids(["vic"]))[0]
    started = await cs.start_session(visitor, queue_id="mine", agent_id=None, context=None)
    assert started["state"] == "waiting"

    bench = await cs.workbench("ann")
    assert [s["session_id"] for s in bench["waiting"]] == [started["session_id"]]

    # her place frees without anyone telling this node (another node's close): the sweep gives it to her
    assert await store.update_session("css_busy", {"state": "closed", "closed_at": now_ms()})

    async def given() -> bool:
        for _ in range(100):
            s = await store.get_session(started["session_id"])
            if s is not None and s.state == "active":
                return s.agent_id == "ann"
            await asyncio.sleep(0.2)
        return False

    assert await given(), "the sweep never reached the queue behind the backlog"


async def test_a_queue_agent_cannot_close_a_session_assigned_meanwhile(node: Node) -> None:
    """Bob (an agent of the queue) reads an unassigned left message; before his close
    lands, another node gives it to Ann: his close must not end Ann's active session."""
    cs = node.customer_service
    assert cs is not None
    await _queue(node, "q", 0)
    await _agent(node, "ann", ["q"])
    await _agent(node, "bob", ["q"])
    visitor = (await node.storage.users.users_by_ids(["vic"]))[0]
    left = await cs.start_session(visitor, queue_id="q", agent_id=None, context=None)
    assert left["state"] == "left_message" and left["agent_id"] is None  # nobody connected
    store = node.storage.customer_service
    real_get = store.get_session

    async def read_then_assigned_elsewhere(session_id: str) -> Session | None:
        s = await real_get(session_id)
        store.get_session = real_get  # type: ignore[method-assign]
        await store.update_session(session_id, {"state": "active", "agent_id": "ann", "assigned_at": now_ms()})
        return s

    store.get_session = read_then_assigned_elsewhere  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        await cs.close("bob", left["session_id"])
    after = await store.get_session(left["session_id"])
    assert after is not None and after.state == "active" and after.agent_id == "ann"

"""The presence service on a real node (SQLite, in-memory registry): what it does when
a push cannot be prepared, and when the presence store is out of reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from semot.app import Node
from semot.config import Settings
from semot.domain.records import User


@pytest.fixture
async def node(tmp_path: Path) -> Any:
    n = Node(Settings(data_dir=tmp_path))
    await n.start()
    pushes: list[tuple[set[str], dict[str, Any]]] = []
    n.events.subscribe(lambda p: pushes.append((set(p.users), p.event.model_dump())))
    n.pushes = pushes  # type: ignore[attr-defined]
    for u in ("ann", "bob"):
        await n.storage.users.create_user(User(u, u, u, "x"))
    yield n
    await n.stop()


async def test_a_push_that_fails_is_retried_not_lost(node: Any) -> None:
    presence, contacts = node.presence, node.contacts
    real = contacts.friend_set
    calls = {"n": 0}

    async def flaky(user_id: str) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away")
        return await real(user_id)

    contacts.friend_set = flaky
    assert await presence.connected("ann", "s1", "phone")
    assert await presence.flush() == 0  # settled, but the recipients could not be worked out
    assert node.pushes == []
    assert await presence.flush() == 1  # the next flush pushes it (settle alone would not)
    assert node.pushes[0][1]["status"] == "online" and node.pushes[0][1]["user"] == "ann"


async def test_the_device_limit_and_an_unreachable_store(node: Any) -> None:
    presence = node.presence
    assert await presence.connected("bob", "s1", "d1", max_devices=2)
    assert await presence.connected("bob", "s2", "d2", max_devices=2)
    assert not await presence.connected("bob", "s3", "d3", max_devices=2)
    assert await presence.connected("bob", "s4", "d1", max_devices=2)  # d1 again: replaces itself

    async def down(*_a: Any, **_k: Any) -> Any:
        raise ConnectionError("redis is down")

    presence._registry.session_up = down
    # chat must not depend on presence: the user gets in, unchecked
    assert await presence.connected("bob", "s5", "d5", max_devices=2)

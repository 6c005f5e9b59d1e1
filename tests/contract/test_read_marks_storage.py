"""read_marks: every member's read position with when they joined, on every backend (the
web client leaves members who joined after a message out of its read receipts)."""

from __future__ import annotations

from semot.domain.records import AddMembers, CreateGroup, Group
from semot.storage.base import Storage


async def test_read_marks_carry_each_members_join_time(storage: Storage) -> None:
    await storage.groups.write(CreateGroup(Group("g1", "G", "own", 1000), ["m1"], 1000), lambda o: [])
    await storage.groups.write(AddMembers("g1", ["m2"], 5000, limit=10), lambda o: [])
    await storage.messages.set_read("g:g1", "m1", 0, 6000)
    marks = await storage.messages.read_marks("g:g1")
    assert marks == {"own": (0, 1000), "m1": (0, 1000), "m2": (0, 5000)}
    # the same positions as read_positions
    assert await storage.messages.read_positions("g:g1") == {u: m[0] for u, m in marks.items()}
    assert await storage.messages.read_marks("g:nothing") == {}

"""Per-conversation settings over real WebSockets: `conv_set` from one device reaches the
user's other devices as `evt conv_settings`, a new device reads them from `sync`, a hidden
conversation comes back with its next message, and a group the user left or that was
dismissed can be removed from the list (issue 11, defect 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.harness import Api, Clients, ServerProcess


def is_settings(conv: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("t") == "evt" and f.get("evt") == "conv_settings" and f.get("conv") == conv


def entry(states: list[dict[str, Any]], conv: str) -> dict[str, Any]:
    return next(s for s in states if s["conv"] == conv)


async def test_settings_reach_every_device_of_the_user(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2, "cs")
    wa1, wa2 = await clients.connect(server, a), await clients.connect(server, a)
    wb = await clients.connect(server, b)
    sent = await wb.send_text(a.user_id, "hello")
    conv = sent["conv"]

    got = await wa1.call("conv_set", conv=conv, pinned=True, dnd=True)
    assert got["conv"] == conv and got["dnd"] is True and got["hidden"] is False and got["hidden_seq"] is None
    assert isinstance(got["pinned_at"], int) and got["pinned_at"] > 0
    evt = await wa2.wait_for(is_settings(conv))
    assert evt == {"t": "evt", "evt": "conv_settings", **got}
    assert not wa1.pushes(is_settings(conv))  # the device that asked has the reply
    assert not wb.pushes(is_settings(conv))  # the other party learns nothing

    # a new device: `{}` sync carries the settings on each conversation
    wa3 = await clients.connect(server, a)
    st = entry((await wa3.call("sync", convs={}))["convs"], conv)
    assert (st["pinned_at"], st["dnd"], st["hidden"]) == (got["pinned_at"], True, False)
    assert "settings" not in (await wa3.call("sync", convs={}))
    # a device that knows the seqs: the conversation did not move, `settings` tells it
    reply = await wa3.call("sync", convs={conv: sent["seq"]})
    assert reply["convs"] == []
    assert reply["settings"] == [got]
    assert entry((await wb.call("sync", convs={}))["convs"], conv)["dnd"] is False  # b's own are untouched

    # re-pinning keeps the time; unpinning and unmuting: the default again, nothing listed
    again = await wa2.call("conv_set", conv=conv, pinned=True)
    assert again["pinned_at"] == got["pinned_at"]
    cleared = await wa2.call("conv_set", conv=conv, pinned=False, dnd=False)
    assert (cleared["pinned_at"], cleared["dnd"]) == (None, False)
    assert (await wa1.wait_for(lambda f: is_settings(conv)(f) and f["dnd"] is False))["pinned_at"] is None
    assert (await wa3.call("sync", convs={conv: sent["seq"]}))["settings"] == []


async def test_hidden_comes_back_with_the_next_message(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b = await api.accounts(server, 2, "ch")
    wa1, wa2 = await clients.connect(server, a), await clients.connect(server, a)
    wb = await clients.connect(server, b)
    first = await wb.send_text(a.user_id, "one")
    conv = first["conv"]
    hid = await wa1.call("conv_set", conv=conv, hidden=True)
    assert hid["hidden"] is True and hid["hidden_seq"] == first["seq"]
    assert (await wa2.wait_for(is_settings(conv)))["hidden"] is True
    wa3 = await clients.connect(server, a)  # a new device knows it is hidden
    assert entry((await wa3.call("sync", convs={}))["convs"], conv)["hidden"] is True

    second = await wb.send_text(a.user_id, "two")
    st = entry((await wa3.call("sync", convs={}))["convs"], conv)
    assert st["hidden"] is False and st["max_seq"] == second["seq"] and st["hidden_seq"] == first["seq"]
    assert (await wa3.call("sync", convs={conv: first["seq"]}))["settings"] == []


async def test_left_and_dismissed_groups_can_be_removed(server: ServerProcess, api: Api, clients: Clients) -> None:
    owner, a = await api.accounts(server, 2, "cg")
    wa1, wa2 = await clients.connect(server, a), await clients.connect(server, a)
    dismissed = await api.group(server, owner, [a], "gone")
    left = await api.group(server, owner, [a], "left")
    status, _ = await api.call(server, "DELETE", f"/api/v1/groups/{dismissed[2:]}", token=owner.access_token)
    assert status == 200
    status, _ = await api.call(server, "POST", f"/api/v1/groups/{left[2:]}/leave", token=a.access_token)
    assert status == 200

    # dismissed: the members stay, so it is hidden like any conversation, for good
    hid = await wa1.call("conv_set", conv=dismissed, hidden=True)
    assert hid["hidden"] is True and isinstance(hid["hidden_seq"], int)
    assert (await wa2.wait_for(is_settings(dismissed)))["hidden"] is True
    assert entry((await wa2.call("sync", convs={}))["convs"], dismissed)["hidden"] is True

    # left: nothing to keep settings on; removal is accepted and told to the other devices
    gone = await wa1.call("conv_set", conv=left, hidden=True)
    assert gone == {"conv": left, "pinned_at": None, "dnd": False, "hidden": True, "hidden_seq": None}
    assert (await wa2.wait_for(is_settings(left)))["hidden_seq"] is None
    assert left not in {s["conv"] for s in (await wa2.call("sync", convs={}))["convs"]}
    assert await wa1.error("conv_set", conv=left, pinned=True) == "not_found"
    assert await wa1.error("conv_set", conv=left, pinned=True, hidden=True) == "bad_request"


async def test_refusals(server: ServerProcess, api: Api, clients: Clients) -> None:
    a, b, c = await api.accounts(server, 3, "cr")
    wa = await clients.connect(server, a)
    wb = await clients.connect(server, b)
    sent = await wb.send_text(c.user_id, "not for a")
    assert await wa.error("conv_set", conv=sent["conv"], pinned=True) == "forbidden"  # someone else's chat
    assert await wa.error("conv_set", conv="x:nope", pinned=True) == "bad_request"
    assert await wa.error("conv_set", conv=sent["conv"], pinned="yes") == "bad_request"  # strict types
    never = f"d:{min(a.user_id, c.user_id)}:{max(a.user_id, c.user_id)}"
    assert await wa.error("conv_set", conv=never, dnd=True) == "not_found"  # no message yet


async def test_python_sdk_set_conversation(server: ServerProcess, api: Api, clients: Clients) -> None:
    from semot.client import SemotClient

    a, b = await api.accounts(server, 2, "cp")
    other = await clients.connect(server, a)  # a's other device
    wb = await clients.connect(server, b)
    conv = (await wb.send_text(a.user_id, "hi"))["conv"]
    sdk = SemotClient(server.base_url)
    await sdk.login(a.user_id, a.password)
    await sdk.connect()
    try:
        got = await sdk.set_conversation(conv, dnd=True)
        assert got["dnd"] is True and got["pinned_at"] is None and got["hidden"] is False
        assert (await other.wait_for(is_settings(conv)))["dnd"] is True
        assert (await sdk.set_conversation(conv, hidden=True))["hidden"] is True
        assert entry(await sdk.sync(), conv)["hidden"] is True
    finally:
        await sdk.close()

"""The typed events (protocol/events.py) and the EventPublisher (services/events.py):
wire compatibility with the contract, strictness, the message fast path, subscribers,
validation, and the hub framing each event once."""

from __future__ import annotations

import logging
import typing
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from semot.bus.base import Bus, Delivery, Envelope, Receiver
from semot.domain.conversations import DirectRef, GroupRef, parse_conv
from semot.domain.messages import Message
from semot.gateway.connection import Connection
from semot.gateway.hub import Hub
from semot.metrics import Metrics
from semot.protocol import events as ev
from semot.protocol import frames
from semot.protocol.codec import text_frame
from semot.protocol.session import SessionProtocol
from semot.services.events import EventPublisher, InvalidEvent, Published


def old_event(name: str, **fields: Any) -> bytes:
    """What `replies.event()` + orjson produced before the models: the wire to keep."""
    return orjson.dumps({"t": "evt", "evt": name, **fields})


# --------------------------------------------------------------------------- wire format


def test_simple_events_are_byte_compatible() -> None:
    assert ev.ReadEvent(conv="d:a:b", seq=3, user="a").to_json() == old_event("read", conv="d:a:b", seq=3, user="a")
    assert ev.TypingEvent(conv="d:a:b", user="a").to_json() == old_event("typing", conv="d:a:b", user="a")
    assert ev.RecallEvent(conv="g:t", seq=9, by="a").to_json() == old_event("recall", conv="g:t", seq=9, by="a")
    assert ev.BurnedEvent(conv="g:t", seq=9).to_json() == old_event("burned", conv="g:t", seq=9)
    got = ev.PresenceEvent(user="a", status="busy", text="afk ☕", v=12).to_json()
    assert got == old_event("presence", user="a", status="busy", text="afk ☕", v=12)
    assert ev.ConfigEvent().to_json() == old_event("config")
    assert ev.NotifyEvent(data={"k": [1, 2]}).to_json() == old_event("notify", data={"k": [1, 2]})


@pytest.mark.parametrize(
    "change",
    [
        {"type": "created", "by": "a", "name": "crew"},
        {"type": "members_added", "users": ["b", "c"], "by": "a"},
        {"type": "member_joined", "user": "b", "inviter": None, "by": "b"},
        {"type": "member_joined", "user": "b", "inviter": "c", "by": "a"},
        {"type": "member_removed", "user": "b", "by": "a"},
        {"type": "member_left", "user": "b", "by": "b"},
        {"type": "role_changed", "user": "b", "role": "admin", "by": "a"},
        {"type": "member_muted", "user": "b", "until": None, "by": "a"},
        {"type": "member_muted", "user": "b", "until": 1795770420757, "by": "a"},
        {"type": "owner_transferred", "user": "b", "by": "a"},
        {"type": "renamed", "name": "crew 2", "by": "a"},
        {"type": "announcement", "text": "", "by": "a"},
        {"type": "settings_changed", "settings": {"join": "approval", "mute_all": True}, "by": "a"},
        {"type": "dismissed", "by": "a"},
        {"type": "requests_pending", "count": 2, "pending": 3, "by": "c"},
        {"type": "request_decided", "request_id": "r1", "accepted": True, "user": "c", "pending": 0, "by": "a"},
    ],
)
def test_group_changes_keep_their_fields_and_values(change: dict[str, Any]) -> None:
    wire = {"t": "evt", "evt": "group", "group_id": "t", "conv": "g:t", "change": change}
    model = ev.parse_push(orjson.dumps(wire))
    assert isinstance(model, ev.GroupEvent)
    assert orjson.loads(model.to_json()) == wire  # same names, same values (key order aside)


def test_a_join_without_inviter_says_null_as_documented() -> None:
    change = ev.MemberJoined(by="b", user="b")
    assert orjson.loads(change.model_dump_json()) == {"type": "member_joined", "by": "b", "user": "b", "inviter": None}


CONTACTS_CHANGES: list[dict[str, Any]] = [
    {"type": "friend_added", "friend": {"user_id": "b", "display_name": "Bee", "remark": "", "created_at": 1,
                                                "avatar_url": None}},
    {"type": "friend_updated", "friend": {"user_id": "b", "display_name": "Bee", "remark": "B", "created_at": 1,
                                                  "avatar_url": "/api/v1/users/b/avatar?v=f1&exp=1&sig=x"}},
    {"type": "friend_removed", "user_id": "b"},
    {
        "type": "request_added",
        "direction": "incoming",
        "request": {"request_id": "r", "from": "a", "to": "b", "message": "hi", "status": "pending", "created_at": 5},
    },
    {"type": "request_removed", "request_id": "r"},
    {"type": "tag_added", "tag": {"tag_id": "t", "name": "work", "created_at": 1, "members": ["b"]}},
    {"type": "tag_updated", "tag": {"tag_id": "t", "name": "team", "created_at": 1, "members": []}},
    {"type": "tag_removed", "tag_id": "t"},
    {"type": "blocked", "entry": {"user_id": "d", "created_at": 9}},
    {"type": "unblocked", "user_id": "d"},
    {"type": "settings", "settings": {"friend_approval": False}},
]


@pytest.mark.parametrize("change", CONTACTS_CHANGES, ids=lambda c: c["type"])
def test_contacts_changes_are_byte_compatible(change: dict[str, Any]) -> None:
    model = ev.parse_push(old_event("contacts", change=change))
    assert isinstance(model, ev.ContactsEvent)
    assert model.to_json() == old_event("contacts", change=change)


def test_every_documented_change_type_has_one_model_and_vice_versa() -> None:
    # docs/protocol.md, Groups ("Every change explains itself") and Contacts ("Snapshot + events")
    assert set(ev.GROUP_CHANGES) == {
        "created",
        "members_added",
        "member_joined",
        "member_removed",
        "member_left",
        "role_changed",
        "member_muted",
        "owner_transferred",
        "renamed",
        "announcement",
        "settings_changed",
        "dismissed",
        "requests_pending",
        "request_decided",
        "avatar",
    }
    assert set(ev.CONTACTS_CHANGES) == {c["type"] for c in CONTACTS_CHANGES}
    assert set(ev.EVENT_TYPES) == {
        "read",
        "typing",
        "recall",
        "burned",
        "edit",  # edits and reactions (docs/protocol.md)
        "reaction",
        "presence",
        "config",
        "notify",
        "group",
        "contacts",
        "file",
        "profile",
        "conv_settings",
        "moderation",  # pre-moderation (docs/moderation.md)
        "resync",  # a cluster node may have missed pushes (docs/operations.md, Redis outages)
        "cs",  # customer-service sessions (docs/customer-service.md)
    }
    # the registries and the unions the parser uses name the same classes
    assert set(typing.get_args(ev.EventModel)) == set(ev.EVENT_TYPES.values())
    group_union = typing.get_args(typing.get_args(ev.GroupChange)[0])
    assert set(group_union) == set(ev.GROUP_CHANGES.values())
    contacts_union = typing.get_args(typing.get_args(ev.ContactsChange)[0])
    assert set(contacts_union) == set(ev.CONTACTS_CHANGES.values())


# --------------------------------------------------------------------------- strictness


@pytest.mark.parametrize(
    "wire",
    [
        {"t": "evt", "evt": "read", "conv": "d:a:b", "seq": 1, "user": "a", "extra": 1},  # unknown field
        {"t": "evt", "evt": "read", "conv": "d:a:b", "seq": "1", "user": "a"},  # no coercion
        {"t": "evt", "evt": "read", "conv": "d:a:b", "user": "a"},  # missing field
        {"t": "evt", "evt": "nope"},  # unknown event
        {"t": "evt", "evt": "presence", "user": "a", "status": "dnd", "text": "", "v": 1},  # unknown status
        {"t": "evt", "evt": "group", "group_id": "t", "conv": "g:t", "change": {"type": "exploded", "by": "a"}},
        {"t": "evt", "evt": "group", "group_id": "t", "conv": "g:t", "change": {"type": "dismissed"}},  # no `by`
        {
            "t": "evt",
            "evt": "group",
            "group_id": "t",
            "conv": "g:t",
            "change": {"type": "settings_changed", "by": "a", "settings": {"colour": "red"}},
        },
        {"t": "evt", "evt": "contacts", "change": {"type": "friend_removed", "user_id": "b", "friend": {}}},
        {
            "t": "msg",
            "conv": "d:a:b",
            "seq": 1,
            "mid": "m",
            "cid": "c",
            "from": "a",
            "kind": "text",
            "body": {"text": "x"},
            "ts": 1,
            "opts": {"burn": 1},
        },
        {
            "t": "msg",
            "conv": "d:a:b",
            "seq": 1,
            "mid": "m",
            "cid": "c",
            "sender": "a",
            "kind": "text",
            "body": {"text": "x"},
            "ts": 1,
            "opts": {},
        },
        {"t": "res", "rid": 1, "ok": True, "data": {}},  # a reply is not a push
    ],
)
def test_what_breaks_the_contract_does_not_parse(wire: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ev.parse_push(orjson.dumps(wire))


def test_models_are_frozen_and_forbid_extras() -> None:
    e = ev.ReadEvent(conv="d:a:b", seq=1, user="a")
    with pytest.raises(ValidationError):
        e.seq = 2
    with pytest.raises(ValidationError):
        ev.ReadEvent(conv="d:a:b", seq=1, user="a", by="x")  # type: ignore[call-arg]


# --------------------------------------------------------------------------- messages

MESSAGES = [
    Message("d:a:b", 17, "m_hojpjj3mfv46e6b9e4d880c908", "c1", "a", "text", {"text": "héllo 👋"}, 1795770420757, {}),
    Message("d:a:b", 18, "m_2", "c2", "a", "text", {"text": "x", "mentions": ["b"]}, 1, {"burn_s": 30}),
    Message("g:t", 1, "m_3", "sys.t.created", "a", "system", {"type": "group_created", "by": "a", "name": "t"}, 2),
    Message("g:t", 2, "m_4", "c4", "a", "location", {"lat": 48.8566, "lng": -2.5e-7, "title": "P"}, 3),
    Message("g:t", 3, "m_5", "c5", "a", "custom", {"type": "o", "data": [None, 1.5, {"k": True}]}, 4),
    Message("g:t", 4, "m_6", "c6", "a", "recalled", {}, 5),
    Message("g:t", 5, "m_7", "c7", "a", "text", {"text": "edited"}, 6, {}, 9,
            [{"emoji": "👍", "count": 2, "users": ["a", "b"]}]),  # edits and reactions
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: m.kind)
def test_the_message_fast_path_gives_the_models_bytes(msg: Message) -> None:
    fast = ev.encode_message_wire(msg.to_wire())
    assert fast == orjson.dumps(msg.to_wire())  # what was sent before
    model = ev.parse_push(fast)
    assert isinstance(model, ev.MessageEvent) and model.sender == msg.sender
    assert model.to_json() == fast


# --------------------------------------------------------------------------- the publisher


class RecordingBus(Bus):
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def start(self, receiver: Receiver) -> None:
        pass

    async def stop(self) -> None:
        pass

    def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope)


def test_the_bus_carries_the_events_json_and_subscribers_see_the_typed_event() -> None:
    bus = RecordingBus()
    pub = EventPublisher(bus)
    seen: list[Published] = []
    unsubscribe = pub.subscribe(seen.append)
    evt = ev.RecallEvent(conv="d:a:b", seq=4, by="a")
    pub.publish(("a", "b"), evt, exclude_session="s_1")
    assert bus.published == [Delivery(("a", "b"), evt.to_json(), "s_1")]
    assert seen == [Published(evt, ("a", "b"), "s_1")]
    pub.publish_message(["a", "b"], MESSAGES[0])
    assert bus.published[-1] == Delivery(["a", "b"], orjson.dumps(MESSAGES[0].to_wire()), None)
    got = seen[-1].event
    assert isinstance(got, ev.MessageEvent) and got.seq == 17 and got.body == {"text": "héllo 👋"}
    unsubscribe()
    pub.publish(("a",), evt)
    assert len(seen) == 2 and len(bus.published) == 3


def test_no_model_is_built_for_a_message_nobody_subscribed_to(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a MessageEvent was built on the hot path")

    monkeypatch.setattr(ev.MessageEvent, "model_validate", forbidden)
    bus = RecordingBus()
    EventPublisher(bus).publish_message(["a", "b"], MESSAGES[1])
    assert len(bus.published) == 1


def test_a_failing_subscriber_does_not_stop_the_push(caplog: pytest.LogCaptureFixture) -> None:
    bus = RecordingBus()
    pub = EventPublisher(bus)
    seen: list[Published] = []

    def broken(_: Published) -> None:
        raise RuntimeError("webhook queue exploded")

    pub.subscribe(broken)
    pub.subscribe(seen.append)
    with caplog.at_level(logging.ERROR):
        pub.publish(("b",), ev.TypingEvent(conv="d:a:b", user="a"))
    assert len(bus.published) == 1 and len(seen) == 1
    assert "event subscriber" in caplog.text


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the broken event, serialised anyway
def test_validation_refuses_an_event_that_breaks_its_model(caplog: pytest.LogCaptureFixture) -> None:
    bus = RecordingBus()
    pub = EventPublisher(bus, validate=True)
    pub.publish(("a",), ev.ReadEvent(conv="d:a:b", seq=1, user="a"))  # a valid one passes
    bad = ev.ReadEvent.model_construct(conv="d:a:b", seq="1", user="a")  # skips validation: a bug
    with caplog.at_level(logging.ERROR), pytest.raises(InvalidEvent):
        pub.publish(("a",), bad)
    assert "failed its schema" in caplog.text
    bad_msg = Message("d:a:b", 1, "m", "c", "a", "text", {"text": "x"}, 1, {"burn": 1})
    with pytest.raises(InvalidEvent):
        pub.publish_message(("a",), bad_msg)
    assert len(bus.published) == 1  # nothing invalid reached the bus
    EventPublisher(RecordingBus()).publish(("a",), bad)  # validation off (production): no cost, no check


# --------------------------------------------------------------------------- the hub


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        pass


def _conn(user: str, session: str) -> tuple[Connection, FakeTransport]:
    t = FakeTransport()
    proto = SessionProtocol(0.0, auth_timeout=10.0, rate_per_s=10.0, burst=5, close_after=3)
    conn = Connection(None, t, proto, send_limit=1 << 20, metrics=Metrics())  # type: ignore[arg-type]
    conn.user_id, conn.device_id, conn.session_id = user, f"{user}-{session}", session
    return conn, t


def test_the_hub_frames_each_event_once_for_all_its_connections() -> None:
    hub = Hub(Metrics(), heartbeat_s=25)
    pairs = [_conn("a", "s1"), _conn("a", "s2"), _conn("b", "s3")]
    for conn, _ in pairs:
        hub.register(conn)
    payload = ev.ReadEvent(conv="d:a:b", seq=2, user="a").to_json()
    assert hub.deliver(Delivery(("a", "b", "nobody-here"), payload, "s1")) == 2
    (ta1, ta2, tb) = (t for _, t in pairs)
    assert ta1.writes == [] and ta2.writes == [text_frame(payload)]
    assert ta2.writes[0] is tb.writes[0]  # one frame object, shared
    big = b'{"t":"evt","evt":"notify","data":{"x":"' + b"y" * 70_000 + b'"}}'
    hub.deliver(Delivery(("b",), big, None))
    assert tb.writes[-1] == text_frame(big) and tb.writes[-1][1] == 127  # 64-bit length form


# --------------------------------------------------------------------------- code health


def test_conversation_refs_are_a_union() -> None:
    d = parse_conv("d:alice:bob")
    assert isinstance(d, DirectRef) and d.kind == "d" and d.users == ("alice", "bob")
    g = parse_conv("g:team-1")
    assert isinstance(g, GroupRef) and g.kind == "g" and g.group_id == "team-1"
    assert not hasattr(g, "users") and not hasattr(d, "group_id")


def test_the_gateway_has_one_handler_per_request_type(tmp_path: Path) -> None:
    from semot.app import Node
    from semot.config import Settings

    node = Node(Settings(data_dir=tmp_path))
    assert set(node.gateway._handlers) == set(frames.FRAME_TYPES) - {"auth"}  # auth is the handshake's

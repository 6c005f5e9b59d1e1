"""Pure domain rules: conversation ids, message bodies, recall."""

from __future__ import annotations

from dataclasses import replace

import pytest

from semot.domain.conversations import direct_conv, parse_conv, resolve_target
from semot.domain.messages import Message, check_recall, validate_body, validate_opts
from semot.errors import BadRequest, Forbidden


class TestConversations:
    def test_direct_conv_orders_by_bytes(self) -> None:
        assert direct_conv("bob", "alice") == "d:alice:bob"
        assert direct_conv("Zed", "amy") == "d:Zed:amy"  # 'Z' < 'a' in byte order

    @pytest.mark.parametrize("conv", ["d:bob:alice", "d:a:a", "d:a", "d:a:b:c", "x:a:b", "g:", "g:bad id", "", "d:a b:c"])
    def test_malformed_ids_are_bad_requests(self, conv: str) -> None:
        with pytest.raises(BadRequest):
            parse_conv(conv)

    def test_parse(self) -> None:
        ref = parse_conv("d:alice:bob")
        assert ref.kind == "d" and ref.users == ("alice", "bob") and ref.peer_of("bob") == "alice"
        assert parse_conv("g:team-1").group_id == "team-1"

    def test_resolve_target(self) -> None:
        assert resolve_target("bob", "alice").conv == "d:alice:bob"
        assert resolve_target("g:t", "alice").conv == "g:t"
        assert resolve_target("d:alice:bob", "bob").conv == "d:alice:bob"
        with pytest.raises(Forbidden):
            resolve_target("d:bob:carol", "alice")
        with pytest.raises(BadRequest):
            resolve_target("alice", "alice")
        with pytest.raises(BadRequest):
            resolve_target("no spaces", "alice")


class TestBodies:
    def test_text(self) -> None:
        assert validate_body("text", {"text": "hi"}, max_text_chars=10) == {"text": "hi"}
        body = validate_body("text", {"text": "@b", "mentions": ["b"], "mention_all": False}, max_text_chars=10)
        assert body["mentions"] == ["b"]

    @pytest.mark.parametrize(
        ("kind", "body", "needle"),
        [
            ("text", {"text": ""}, "text"),
            ("text", {"text": 5}, "text"),
            ("text", {"text": "x" * 11}, "longer than 10"),
            ("text", {"text": "x", "html": "<b>"}, "html"),
            ("text", {"text": "x", "mentions": ["bad id"]}, "mentions"),
            ("location", {"lat": 91, "lng": 0}, "lat"),
            ("location", {"lat": "1", "lng": 0}, "lat"),
            ("card", {}, "user_id"),
            ("custom", {"data": 1}, "type"),
            ("image", {"file_id": "not an id"}, "file_id"),
            ("voice", {"file_id": "f1", "duration_ms": -1}, "duration_ms"),
            ("file", {"file_id": "f1", "extra": 1}, "extra"),
            ("sticker", {}, "unknown message kind"),
            ("system", {"type": "x"}, "unknown message kind"),
        ],
    )
    def test_rejections(self, kind: str, body: dict, needle: str) -> None:
        with pytest.raises(BadRequest) as info:
            validate_body(kind, body, max_text_chars=10)
        assert needle in info.value.message

    def test_location_card_custom(self) -> None:
        assert validate_body("location", {"lat": 31.2, "lng": 121.5, "title": "外滩"}, max_text_chars=1)["title"] == "外滩"
        assert validate_body("card", {"user_id": "bob"}, max_text_chars=1) == {"user_id": "bob"}
        assert validate_body("custom", {"type": "order", "data": {"id": 7}}, max_text_chars=1)["data"] == {"id": 7}
        assert validate_body("custom", {"type": "ping", "data": None}, max_text_chars=1) == {"type": "ping", "data": None}

    def test_opts(self) -> None:
        assert validate_opts(None, max_burn_s=60) == {}
        assert validate_opts({"burn_s": 10}, max_burn_s=60) == {"burn_s": 10}
        for bad in ({"burn_s": 0}, {"burn_s": 61}, {"burn_s": "5"}, {"pin": True}):
            with pytest.raises(BadRequest):
                validate_opts(bad, max_burn_s=60)


class TestRecall:
    msg = Message("d:a:b", 1, "m", "c", "a", "text", {"text": "x"}, ts=1_000)

    def test_sender_within_window(self) -> None:
        assert check_recall(self.msg, "a", now_ms=100_000, window_s=120) is True

    def test_twice_is_a_no_op_but_system_and_burned_are_refused(self) -> None:
        assert check_recall(replace(self.msg, kind="recalled", body={}), "a", 2_000, 120) is False
        for kind in ("system", "burned"):
            with pytest.raises(Forbidden):
                check_recall(replace(self.msg, kind=kind), "a", 2_000, 120)

    def test_others_and_late_are_forbidden(self) -> None:
        with pytest.raises(Forbidden):
            check_recall(self.msg, "b", now_ms=2_000, window_s=120)
        with pytest.raises(Forbidden):
            check_recall(self.msg, "a", now_ms=1_000 + 120_001, window_s=120)


class TestCustomLimits:
    """Issue 8: custom data nested ~254+ deep broke the write of a whole batch."""

    @staticmethod
    def nested(levels: int) -> object:
        data: object = 1
        for i in range(levels):
            data = [data] if i % 2 else {"k": data}
        return data

    def test_depth(self) -> None:
        ok = validate_body("custom", {"type": "t", "data": self.nested(32)}, max_text_chars=1)
        assert ok["type"] == "t"
        for levels in (33, 300, 5000):  # iterative: no RecursionError however deep
            with pytest.raises(BadRequest) as info:
                validate_body("custom", {"type": "t", "data": self.nested(levels)}, max_text_chars=1)
            assert info.value.message == "body.data: nested deeper than 32 levels (max_custom_depth)"
        with pytest.raises(BadRequest):
            validate_body("custom", {"type": "t", "data": self.nested(5)}, max_text_chars=1, max_custom_depth=4)

    def test_size(self) -> None:
        validate_body("custom", {"type": "t", "data": "x" * 16000}, max_text_chars=1)
        with pytest.raises(BadRequest) as info:
            validate_body("custom", {"type": "t", "data": "x" * 16383}, max_text_chars=1)
        assert "16385 bytes as JSON, over the limit of 16384 (max_custom_bytes)" in info.value.message
        with pytest.raises(BadRequest):
            validate_body("custom", {"type": "t", "data": {"a": "x" * 100}}, max_text_chars=1, max_custom_bytes=100)

    def test_unencodable(self) -> None:
        with pytest.raises(BadRequest) as info:
            validate_body("custom", {"type": "t", "data": 2**70}, max_text_chars=1)
        assert "not encodable as JSON" in info.value.message

"""The wire contract without a network: frame parsing, framing, session rules."""

from __future__ import annotations

import orjson
import pytest

from semot.protocol import frames, replies
from semot.protocol.codec import text_frame
from semot.protocol.session import (
    CLOSE_TOO_MANY_REQUESTS,
    CLOSE_UNAUTHORIZED,
    Close,
    Dispatch,
    Reply,
    SessionProtocol,
    State,
)


def frame(**obj: object) -> bytes:
    return orjson.dumps(obj)


def session(now: float = 0.0, **kw: float) -> SessionProtocol:
    opts = {"auth_timeout": 10.0, "rate_per_s": 10.0, "burst": 5, "close_after": 3, **kw}
    return SessionProtocol(now, **opts)  # type: ignore[arg-type]


def open_session() -> SessionProtocol:
    s = session()
    assert isinstance(s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0), Dispatch)
    s.auth_succeeded()
    return s


def reply_of(action: object) -> dict:
    assert isinstance(action, Reply), action
    return orjson.loads(action.payload[2:] if action.payload[1] < 126 else action.payload[4:])


class TestParse:
    def test_valid_send(self) -> None:
        req = frames.parse_request(frame(t="send", rid=3, cid="c", to="bob", kind="text", body={"text": "hi"}))
        assert isinstance(req, frames.Send) and req.to == "bob" and req.opts is None

    @pytest.mark.parametrize(
        ("raw", "rid", "needle"),
        [
            (b"{not json", None, "not valid JSON"),
            (b"[1,2]", None, "JSON object"),
            (frame(t="ping"), None, "rid is required"),
            (frame(t="ping", rid=True), None, "rid is required"),
            (frame(t="nope", rid=4), 4, "unknown frame type"),
            (frame(rid=4), 4, "t is required"),
            (frame(t="read", rid="r", conv="d:a:b", seq="3"), "r", "seq"),
            (frame(t="send", rid=5, cid="c", to="bob", kind="text", body="hi"), 5, "body"),
            (frame(t="history", rid=6, conv="d:a:b", limit=500), 6, "limit"),
            (frame(t="auth", rid=7, token="t", device={"id": "bad id!", "platform": "web"}), 7, "device.id"),
            (frame(t="auth", rid=7, token="t", device={"id": "ok", "platform": "fridge"}), 7, "platform"),
            (frame(t="sync", rid=8, convs={"d:a:b": -1}), 8, "convs"),
        ],
    )
    def test_bad_frames_name_the_problem_and_keep_the_rid(self, raw: bytes, rid: object, needle: str) -> None:
        with pytest.raises(frames.FrameError) as info:
            frames.parse_request(raw)
        assert info.value.rid == rid and info.value.code == "bad_request"
        assert needle in info.value.message


class TestFraming:
    @pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
    def test_text_frame_lengths(self, size: int) -> None:
        payload = b"x" * size
        f = text_frame(payload)
        assert f[0] == 0x81 and f[1] & 0x80 == 0  # FIN + TEXT, unmasked
        if size < 126:
            assert f[1] == size and f[2:] == payload
        elif size < 65536:
            assert f[1] == 126 and int.from_bytes(f[2:4], "big") == size and f[4:] == payload
        else:
            assert f[1] == 127 and int.from_bytes(f[2:10], "big") == size and f[10:] == payload

    def test_error_reply_shape(self) -> None:
        body = orjson.loads(replies.error(9, "forbidden", "no")[2:])
        assert body == {"t": "res", "rid": 9, "ok": False, "error": {"code": "forbidden", "message": "no"}}


class TestSession:
    def test_first_frame_must_be_auth(self) -> None:
        s = session()
        action = s.receive(frame(t="ping", rid=1), 0)
        assert isinstance(action, Close) and action.code == CLOSE_UNAUTHORIZED
        assert s.state is State.CLOSED

    def test_malformed_auth_closes_with_error_reply(self) -> None:
        s = session()
        action = s.receive(frame(t="auth", rid=1, token="x"), 0)
        assert isinstance(action, Close) and action.code == CLOSE_UNAUTHORIZED and action.reply is not None

    def test_auth_then_requests(self) -> None:
        s = open_session()
        assert isinstance(s.receive(frame(t="ping", rid=2), 0.1), Dispatch)
        again = reply_of(s.receive(frame(t="auth", rid=3, token="x", device={"id": "d", "platform": "web"}), 0.2))
        assert again["error"]["message"] == "already authenticated"

    def test_bad_frame_after_auth_is_a_reply_not_a_close(self) -> None:
        s = open_session()
        r = reply_of(s.receive(b"garbage", 0.1))
        assert r["ok"] is False and r["rid"] is None and r["error"]["code"] == "bad_request"
        assert s.state is State.OPEN

    def test_auth_failure_closes_4401_after_reply(self) -> None:
        s = session()
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        action = s.auth_failed(1, "invalid access token")
        assert action.code == CLOSE_UNAUTHORIZED and b"unauthorized" in (action.reply or b"")

    def test_auth_deadline(self) -> None:
        s = session(now=100.0, auth_timeout=10.0)
        assert not s.auth_expired(109.9) and s.auth_expired(110.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 101)
        s.auth_succeeded()
        assert not s.auth_expired(500.0)

    def test_rate_limit_replies_then_closes(self) -> None:
        s = open_session()  # burst 5, 10/s, close after 3 rejections in a row
        actions = [s.receive(frame(t="ping", rid=i), 1.0) for i in range(5)]
        assert all(isinstance(a, Dispatch) for a in actions)
        limited = reply_of(s.receive(frame(t="ping", rid=99), 1.0))
        assert limited["error"]["code"] == "rate_limited" and limited["rid"] == 99
        assert isinstance(s.receive(frame(t="ping", rid=100), 1.0), Reply)
        final = s.receive(frame(t="ping", rid=101), 1.0)
        assert isinstance(final, Close) and final.code == CLOSE_TOO_MANY_REQUESTS

    def test_rate_limit_refills_over_time(self) -> None:
        s = open_session()
        for i in range(5):
            s.receive(frame(t="ping", rid=i), 1.0)
        assert isinstance(s.receive(frame(t="ping", rid=6), 1.0), Reply)
        assert isinstance(s.receive(frame(t="ping", rid=7), 1.2), Dispatch)  # 0.2 s at 10/s = 2 tokens

    def test_refusals_need_not_be_in_a_row(self) -> None:
        """A flooder is served every refilled token: its refusals are never 3 in a row,
        yet it is closed after 3 refusals in one flood."""
        s = open_session()  # burst 5, 10/s, close after 3 refusals
        for i in range(5):
            s.receive(frame(t="ping", rid=i), 1.0)
        assert isinstance(s.receive(frame(t="ping", rid=10), 1.0), Reply)
        assert isinstance(s.receive(frame(t="ping", rid=11), 1.125), Dispatch)  # a token refilled
        assert isinstance(s.receive(frame(t="ping", rid=12), 1.125), Reply)
        assert isinstance(s.receive(frame(t="ping", rid=13), 1.25), Dispatch)
        final = s.receive(frame(t="ping", rid=14), 1.25)
        assert isinstance(final, Close) and final.code == CLOSE_TOO_MANY_REQUESTS

    def flood(self, s: SessionProtocol, rate: float, start: float, seconds: float) -> tuple[list[object], float]:
        """Send at `rate` per second (fake clock) until closed or `seconds` pass."""
        actions: list[object] = []
        t, rid = start, 1000
        while t < start + seconds:
            action = s.receive(frame(t="ping", rid=rid), t)
            actions.append(action)
            if isinstance(action, Close):
                return actions, t
            t += 1 / rate
            rid += 1
        return actions, t

    def test_sustained_flood_is_closed_after_close_after_s(self) -> None:
        s = session(rate_per_s=10.0, burst=5, close_after=10**9, close_after_s=10.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        s.auth_succeeded()
        actions, t = self.flood(s, 30.0, 0.0, 60.0)  # three times the rate
        first_refusal = next(i for i, a in enumerate(actions) if isinstance(a, Reply)) / 30.0
        assert isinstance(actions[-1], Close) and actions[-1].code == CLOSE_TOO_MANY_REQUESTS
        assert first_refusal + 10.0 <= t < first_refusal + 10.2
        served = sum(isinstance(a, Dispatch) for a in actions)
        assert abs(served - (5 + 10 * t)) <= 2, "the flooder was served at its rate until the close"

    def test_slightly_over_the_rate_is_also_a_flood(self) -> None:
        s = session(rate_per_s=10.0, burst=5, close_after=10**9, close_after_s=10.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        s.auth_succeeded()
        actions, t = self.flood(s, 11.0, 0.0, 60.0)
        assert isinstance(actions[-1], Close) and t < 20.0

    def test_just_under_the_rate_is_never_closed(self) -> None:
        s = session(rate_per_s=10.0, burst=5, close_after=10**9, close_after_s=10.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        s.auth_succeeded()
        actions, _ = self.flood(s, 9.5, 0.0, 120.0)
        assert all(isinstance(a, Dispatch) for a in actions)

    def test_burst_then_within_rate_ends_the_flood(self) -> None:
        """A burst is refused in part; a client that then keeps under its rate is never
        closed, even when it bursts again more than close_after_s after the first."""
        s = session(rate_per_s=10.0, burst=5, close_after=10**9, close_after_s=10.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        s.auth_succeeded()
        burst = [s.receive(frame(t="ping", rid=i), 0.0) for i in range(15)]
        assert sum(isinstance(a, Reply) for a in burst) == 10
        actions, t = self.flood(s, 9.0, 0.5, 12.0)
        assert not any(isinstance(a, Close) for a in actions)
        again = [s.receive(frame(t="ping", rid=i), t) for i in range(15)]
        assert not any(isinstance(a, Close) for a in again) and any(isinstance(a, Reply) for a in again)

    def test_a_flood_that_pauses_is_over(self) -> None:
        s = session(rate_per_s=10.0, burst=5, close_after=10**9, close_after_s=10.0)
        s.receive(frame(t="auth", rid=1, token="x", device={"id": "d", "platform": "web"}), 0)
        s.auth_succeeded()
        actions, t = self.flood(s, 30.0, 0.0, 8.0)
        assert not any(isinstance(a, Close) for a in actions)
        actions, _ = self.flood(s, 30.0, t + 30.0, 8.0)  # quiet for 30 s: a new flood
        assert not any(isinstance(a, Close) for a in actions)

    def test_liveness(self) -> None:
        s = open_session()
        s.receive(frame(t="ping", rid=1), 10.0)
        assert not s.is_dead(60.0, 25) and s.is_dead(60.1, 25)


class TestNulAndSurrogates:
    """Issue 8: what no database can store is refused in the parser, with the rid."""

    @pytest.mark.parametrize(
        ("raw", "where"),
        [
            (frame(t="send", rid=1, cid="a\x00", to="bob", kind="text", body={"text": "x"}), "cid"),
            (frame(t="send", rid=1, cid="a", to="bo\x00b", kind="text", body={"text": "x"}), "to"),
            (frame(t="send", rid=1, cid="a", to="bob", kind="text", body={"text": "x\x00"}), "body.text"),
            (frame(t="send", rid=1, cid="a", to="b", kind="custom", body={"type": "t", "data": [{"k\x00": 1}]}), "body.data[0].k\\u0000"),
            (frame(t="send", rid=1, cid="a", to="b", kind="text", body={"text": "x"}, opts={"\x00": 1}), "opts.\\u0000"),
            (frame(t="presence", rid=1, status="busy", text="\x00"), "text"),
            (frame(t="sync", rid=1, convs={"d:a\x00:b": 1}), "convs.d:a\\u0000:b"),
            (frame(t="history", rid=1, conv="\x00"), "conv"),
        ],
    )
    def test_nul_anywhere_is_refused_naming_the_field(self, raw: bytes, where: str) -> None:
        with pytest.raises(frames.FrameError) as info:
            frames.parse_request(raw)
        assert info.value.rid == 1 and info.value.code == "bad_request"
        assert info.value.message == f"{where}: strings may not contain U+0000 (NUL)"
        assert info.value.details == {"fields": [{"field": where, "error": "strings may not contain U+0000 (NUL)"}]}

    def test_nul_walk_is_iterative(self) -> None:
        raw = b'{"t":"send","rid":2,"cid":"c","to":"b","kind":"custom","body":{"type":"t","data":' + b"[" * 1000 + b'"\\u0000"' + b"]" * 1000 + b"}}"
        with pytest.raises(frames.FrameError) as info:
            frames.parse_request(raw)
        assert info.value.rid == 2 and "U+0000" in info.value.message

    def test_an_escaped_backslash_is_not_a_nul(self) -> None:
        req = frames.parse_request(b'{"t":"send","rid":3,"cid":"c","to":"b","kind":"text","body":{"text":"\\\\u0000"}}')
        assert isinstance(req, frames.Send) and req.body == {"text": "\\u0000"}

    @pytest.mark.parametrize(
        ("raw", "rid"),
        [
            (b'{"t":"send","rid":4,"cid":"c","to":"b","kind":"text","body":{"text":"\\ud83d"}}', 4),
            (b'{"t":"ping","rid":"r5","x":"\\udc00 and \\ud83d\\ude00"}', "r5"),
            ('{"t":"ping","x":"\\uDFFF","rid":6}', 6),
            (b'{"t":"ping","rid":"\\ud800"}', None),  # the rid itself cannot be echoed
            (b'{"t":"ping","rid":7,"x":"\\ud800"', None),  # and broken JSON besides
        ],
    )
    def test_unpaired_surrogates_are_refused_with_the_rid(self, raw: bytes | str, rid: object) -> None:
        with pytest.raises(frames.FrameError) as info:
            frames.parse_request(raw)
        assert info.value.code == "bad_request" and "surrogate" in info.value.message
        assert info.value.rid == rid

    def test_paired_surrogates_are_an_emoji(self) -> None:
        req = frames.parse_request(b'{"t":"send","rid":8,"cid":"c","to":"b","kind":"text","body":{"text":"\\ud83d\\ude00"}}')
        assert isinstance(req, frames.Send) and req.body == {"text": "\U0001f600"}
